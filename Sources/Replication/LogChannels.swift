/// What a primary needs from its side of the logging channel: the NIO ``PrimaryLink`` on real
/// lines, or a simulated one. The role never touches sockets itself.
public protocol PrimaryLogChannel: AnyObject {
    var status: PrimaryLink.Status { get }
    /// Assigns the next sequence number to `entry` and sends it to the backup, if there is one.
    @discardableResult func append(_ entry: LogEntry) -> UInt64
    /// Sends the initial state to the backup that asked for it; false if it went away.
    @discardableResult func sendSnapshot(_ snapshot: [UInt8], generation: UInt64) -> Bool
    /// Sends part of a disk copy to the joining backup; false if it went away.
    func sendDiskMessages(_ messages: [ReplicationMessage]) -> Bool
    /// Refuses the joining backup, saying why.
    func refuseJoin(reason: String)
    /// After the primary won the arbiter without its backup: forget it, accept a new one.
    func forgetBackup()
    /// Tells the backup to take over at `instructionCount` (a planned switchover); false without
    /// a backup in step.
    func sendHandover(instructionCount: UInt64) -> Bool
    /// Called after each acknowledgement from the backup is taken in, on whatever thread the
    /// channel runs (the primary releases the outputs it covers at once, not at its next step).
    var onAcknowledged: (() -> Void)? { get set }
}

/// What a backup needs from its side of the logging channel.
public protocol BackupLogChannel: AnyObject {
    /// The primary's snapshot, once it has arrived whole (once).
    func takeInitialState() -> BackupLink.InitialState?
    /// Entries received since the last call, in sequence order.
    func takeEntries() -> [LogEntry]
    /// How far the backup has executed (carried in acknowledgements; the primary throttles on it).
    func noteExecuted(_ count: UInt64)
    /// Every line has been silent for the timeout: the primary is declared lost.
    var isPrimaryLost: Bool { get }
    /// Why the primary refused this node, if it did.
    var refusedReason: String? { get }
    /// The disk copy's messages received since the last call, in order.
    func takeCopyTransfers() -> [CopyTransfer]
    /// The backup executed everything it received: acknowledge its progress now.
    func reportCaughtUp()
    /// The instruction count of the primary's planned handover, once every entry before it arrived.
    var handover: UInt64? { get }
    /// When the primary was last heard on any line (nil: not known), for the failover pause.
    var lastHeard: Double? { get }
}

extension PrimaryLogChannel {
    /// Channels of disk-less machines (the simulation's) carry no disk copy.
    public func sendDiskMessages(_ messages: [ReplicationMessage]) -> Bool { false }
    public func refuseJoin(reason: String) {}
    public func sendHandover(instructionCount: UInt64) -> Bool { false }
}

extension BackupLogChannel {
    public func takeCopyTransfers() -> [CopyTransfer] { [] }
    public func reportCaughtUp() {}
    public var handover: UInt64? { nil }
    public var lastHeard: Double? { nil }
}

extension PrimaryLink: PrimaryLogChannel {}
extension BackupLink: BackupLogChannel {}

/// Bugs the simulation plants on purpose to prove that its invariant checks can fail. Only the
/// simulator sets them (through the `Simulation` SPI); `lockstep node` never does.
public enum PlantedBug: String, Sendable, CaseIterable {
    /// The gate releases one output before the backup acknowledged what it depends on.
    case releaseBeforeAck = "release-before-ack"
    /// The backup silently drops one input entry.
    case loseEntry = "lose-entry"
    /// A node goes live without winning the arbiter.
    case twoPrimaries = "two-primaries"
}
