/// What a `lockstep node` says about itself in its status file (`--status-file`, written by
/// ``NodeStatusFile`` every half second and on every role change): its role, how far its backup
/// is behind, what the lines carried, the outputs held, its go-lives and pauses, and a live copy's
/// progress. The pool's agent reads it for its etcd report and its metrics (docs/pool.md).
///
/// Assembled by the pure functions ``primary(_:)`` and ``backup(_:)`` from the roles' real state
/// (the link's status, the gate, the live copy), so that a test drives them with known values.
public struct NodeRuntimeStatus: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable {
        /// The process started; it has not decided yet.
        case starting
        /// Joining a primary as its backup: asked for the state, nothing received yet.
        case joining
        /// A live copy to or from a joining backup is under way (``copy`` says which side).
        case copying
        /// A backup following its primary's log.
        case backup
        /// The live primary, with a backup in step.
        case primary
        /// The live primary without a backup in step.
        case primaryAlone = "primary-alone"
        /// The node's run ended (the guest stopped, a switchover handed it over, it lost the arbiter).
        case finished
    }

    /// A live copy to a joining backup (`sending`, on the primary) or from the primary
    /// (`receiving`, on the backup).
    public struct Copy: Codable, Equatable, Sendable {
        public enum Side: String, Codable, Sendable { case sending, receiving }
        /// What the copy is at: the first round over memory, the disks' planned extents, or the
        /// rounds over what the guest wrote meanwhile until the final pause.
        public enum Phase: String, Codable, Sendable { case memory, disk, final }
        public var side: Side
        public var phase: Phase
        /// Bytes copied so far (uncompressed: memory pages of the first round and planned disk
        /// extents; what the guest wrote again is not counted twice).
        public var bytesDone: UInt64
        /// Bytes the copy must send at least (the first round's memory pages and the planned
        /// extents); nil where the side does not know it (a receiving backup's memory).
        public var bytesTotal: UInt64?
        /// `bytesDone / bytesTotal` (at most 1); on the receiving side, the planned disk extents
        /// received; nil when unknown.
        public var progress: Double?

        public init(side: Side, phase: Phase, bytesDone: UInt64, bytesTotal: UInt64?, progress: Double? = nil) {
            self.side = side
            self.phase = phase
            self.bytesDone = bytesDone
            self.bytesTotal = bytesTotal
            self.progress = progress ?? bytesTotal.map { $0 == 0 ? 1 : min(1, Double(bytesDone) / Double($0)) }
        }
    }

    /// How this node last went live (a backup whose primary was lost or handed over).
    public struct GoLive: Codable, Equatable, Sendable {
        public enum Kind: String, Codable, Sendable { case failover, switchover }
        public var kind: Kind
        /// The generation it won.
        public var generation: UInt64
        /// From the last message heard from the old primary to winning the arbiter (seconds):
        /// for a failover, the guest's outage but for the execution of the backlog before it.
        public var pauseSeconds: Double

        public init(kind: Kind, generation: UInt64, pauseSeconds: Double) {
            self.kind = kind
            self.generation = generation
            self.pauseSeconds = pauseSeconds
        }
    }

    /// The VM and this node's id.
    public var vm: String
    public var node: String
    public var role: Role
    /// Whether this node is the VM's live primary (alone or not, copying or not).
    public var live: Bool
    public var generation: UInt64
    /// The guest's instruction count on this node (0 before a backup has its state).
    public var instructionCount: UInt64
    /// When the file was written (seconds since 1970).
    public var updated: Double
    /// A primary with a backup in step: the backup's executed count, the last sequence it
    /// acknowledged and the last one appended.
    public var backupExecuted: UInt64?
    public var acknowledgedSequence: UInt64?
    public var lastSequence: UInt64?
    /// A primary with a backup in step: instructions the backup has not executed yet (the
    /// primary's count minus the backup's executed count, as the statistics line and the throttle
    /// count them: it includes what the primary ran since its last entry).
    public var lagInstructions: UInt64?
    /// A primary with a backup in step: how long ago the oldest entry the backup has not
    /// acknowledged was sent (0 when it has acknowledged everything).
    public var lagSeconds: Double?
    /// A primary: what each line carried to backups in this process (every frame).
    public var lines: [PrimaryLink.LineTraffic]
    /// A primary: log entries and bytes sent (one line's worth; the initial state and copy included).
    public var logEntriesSent: UInt64
    public var logBytesSent: UInt64
    /// A primary: outputs in the gate now, their bytes, and how long the oldest has waited (seconds).
    public var outputsHeld: Int
    public var outputBytesHeld: Int
    public var oldestOutputSeconds: Double?
    /// Times this process went live (0 or 1: a node that goes live stays the primary until it ends).
    public var goLives: Int
    public var lastGoLive: GoLive?
    /// A primary that handed over (a switchover): from the guest's last instruction to sending the
    /// handover (seconds), as its log line says.
    public var switchoverPauseSeconds: Double?
    /// A live copy under way.
    public var copy: Copy?

    /// A node that has not decided its role yet (or whose run ended: `role` `.finished`).
    public init(vm: String, node: String, role: Role = .starting, generation: UInt64 = 0, instructionCount: UInt64 = 0, updated: Double) {
        self.vm = vm
        self.node = node
        self.role = role
        live = false
        self.generation = generation
        self.instructionCount = instructionCount
        self.updated = updated
        lines = []
        logEntriesSent = 0
        logBytesSent = 0
        outputsHeld = 0
        outputBytesHeld = 0
        goLives = 0
    }

    /// The outputs a primary's gate holds.
    public struct Outputs: Equatable, Sendable {
        public var count: Int
        public var bytes: Int
        /// When the oldest was taken (the role's clock; nil: none held).
        public var oldestSince: Double?

        public init(count: Int, bytes: Int, oldestSince: Double?) {
            self.count = count
            self.bytes = bytes
            self.oldestSince = oldestSince
        }
    }

    /// What a primary's status is made of.
    public struct PrimaryState: Sendable {
        public var vm: String
        public var node: String
        public var generation: UInt64
        public var instructionCount: UInt64
        public var link: PrimaryLink.Status
        public var outputs: Outputs
        public var copy: Copy?
        public var switchoverPauseSeconds: Double?
        /// The role's clock (for ages) and the wall clock (for ``updated``).
        public var now: Double
        public var wallClock: Double

        public init(vm: String, node: String, generation: UInt64, instructionCount: UInt64, link: PrimaryLink.Status,
                    outputs: Outputs, copy: Copy?, switchoverPauseSeconds: Double?, now: Double, wallClock: Double) {
            self.vm = vm
            self.node = node
            self.generation = generation
            self.instructionCount = instructionCount
            self.link = link
            self.outputs = outputs
            self.copy = copy
            self.switchoverPauseSeconds = switchoverPauseSeconds
            self.now = now
            self.wallClock = wallClock
        }
    }

    /// A live primary's status.
    public static func primary(_ state: PrimaryState) -> NodeRuntimeStatus {
        let link = state.link
        let inStep = link.hasBackup && !link.backupLost
        let role: Role = state.copy != nil || link.joinRequested ? .copying : inStep ? .primary : .primaryAlone
        var status = NodeRuntimeStatus(vm: state.vm, node: state.node, role: role, generation: state.generation,
                                       instructionCount: state.instructionCount, updated: state.wallClock)
        status.live = true
        if inStep {
            status.backupExecuted = link.backupExecuted
            status.acknowledgedSequence = link.acknowledged
            status.lastSequence = link.lastSequence
            status.lagInstructions = state.instructionCount - min(state.instructionCount, link.backupExecuted)
            status.lagSeconds = link.oldestUnacknowledgedAge ?? 0
        }
        status.lines = link.lines
        status.logEntriesSent = link.sentEntries
        status.logBytesSent = link.sentBytes
        status.outputsHeld = state.outputs.count
        status.outputBytesHeld = state.outputs.bytes
        status.oldestOutputSeconds = state.outputs.oldestSince.map { max(0, state.now - $0) }
        status.switchoverPauseSeconds = state.switchoverPauseSeconds
        status.copy = state.copy
        return status
    }

    /// A backup's status: `instructionCount` nil until it has its state (joining, or receiving a
    /// copy when `copy` is set).
    public static func backup(vm: String, node: String, generation: UInt64, instructionCount: UInt64?, copy: Copy?,
                              wallClock: Double) -> NodeRuntimeStatus {
        let role: Role = instructionCount != nil ? .backup : copy != nil ? .copying : .joining
        var status = NodeRuntimeStatus(vm: vm, node: node, role: role, generation: generation,
                                       instructionCount: instructionCount ?? 0, updated: wallClock)
        status.copy = instructionCount == nil ? copy : nil
        return status
    }
}
