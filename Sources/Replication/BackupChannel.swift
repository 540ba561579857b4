import DequeModule

/// The backup's side of the logging channel as a pure state machine (no sockets, no locks, no
/// clock): which lines are up and which need a (re)connection, the initial state assembled from
/// its chunks, the log entries in order (each entry arrives on every live line; duplicates are
/// dropped by sequence number), acknowledgements and heartbeats (with the echo of the primary's
/// time), and the silence that declares the primary dead.
///
/// Every entry point takes the current time, `now`, in seconds on any monotonic time base, and
/// returns the effects to perform, in order, as ``LinkAction``s. ``BackupLink`` drives it from
/// SwiftNIO; a deterministic simulator can drive it with a virtual clock and a simulated
/// network. Lines are visited in index order, so the same calls give the same actions.
public struct BackupChannel: Sendable {
    public let heartbeat: HeartbeatSettings
    /// The primary's line addresses, as the log names them; one line per address.
    public let peers: [String]
    private var lines: [Int: LineID] = [:]
    private var connecting: Set<Int> = []
    private var joinLine: Int?
    /// The primary's node ID, once a line authenticated (named when the primary is lost).
    private var primaryID: String?
    /// What this backup sends to join: `join`, `joinLive`, or `joinWithDisks` with its disks' reports.
    public var joinMessage: ReplicationMessage = .join
    private var copyTransfers: [CopyTransfer] = []
    private var snapshotBytes: [UInt8] = []
    private var snapshotGeneration: UInt64 = 0
    private var initialState: BackupLink.InitialState?
    private var synced = false
    private var entries: Deque<LogEntry> = []
    private var nextSequence: UInt64 = 1
    private var executed: UInt64 = 0
    /// The executed count the last acknowledgement carried.
    private var acknowledgedExecuted: UInt64 = 0
    /// The latest time (the primary's clock) in a heartbeat from the primary: echoed back.
    private var primaryTime: UInt64 = 0
    private var unacknowledged = false
    private var primaryLost = false
    private var refusal: String?
    private var stopped = false
    private var monitor: SilenceMonitor
    private var lastWaitingReport: Double?

    /// A backup with no line up yet, watching from `now`. `peers` names the primary's line
    /// addresses (`host:port`), one per line.
    public init(peers: [String], heartbeat: HeartbeatSettings, now: Double) {
        self.peers = peers
        self.heartbeat = heartbeat
        monitor = SilenceMonitor(timeout: heartbeat.timeout, now: now)
    }

    // MARK: The machine thread

    /// The initial state once it has arrived whole (once).
    public mutating func takeInitialState() -> BackupLink.InitialState? {
        defer { initialState = nil }
        return initialState
    }

    /// Removes and returns the disk copy's messages received so far, in order.
    public mutating func takeCopyTransfers() -> [CopyTransfer] {
        defer { copyTransfers.removeAll(keepingCapacity: true) }
        return copyTransfers
    }

    /// Removes and returns the entries received so far, in order.
    public mutating func takeEntries() -> [LogEntry] {
        defer { entries.removeAll(keepingCapacity: true) }
        return Array(entries)
    }

    /// What the machine thread has executed (reported to the primary with acknowledgements).
    public mutating func noteExecuted(_ count: UInt64) { executed = count }

    /// The machine thread has executed everything it received: if that moved the executed count
    /// since the last acknowledgement, say so now rather than at the next heartbeat (a primary
    /// waiting for its backup to reach a disk flush, `--disk-sync both`, waits for this).
    public mutating func caughtUp() -> [LinkAction] {
        guard synced, !stopped, executed > acknowledgedExecuted else { return [] }
        acknowledgedExecuted = executed
        let ack = ReplicationMessage.ack(sequence: nextSequence - 1, executedCount: executed, echo: primaryTime)
        return orderedLines.map { LinkAction.send($0, [ack]) }
    }

    /// Every line silent for the timeout after the backup was synchronised.
    public var isPrimaryLost: Bool { primaryLost }

    /// Why the primary refused this node, if it did.
    public var refusedReason: String? { refusal }

    /// The primary's planned handover (``ReplicationMessage/handover(lastSequence:instructionCount:)``),
    /// once every entry up to it has arrived: the backup goes live when it has executed them.
    public var handover: UInt64? {
        guard let pending = handoverPending, nextSequence > pending.lastSequence else { return nil }
        return pending.instructionCount
    }
    private var handoverPending: (lastSequence: UInt64, instructionCount: UInt64)?

    /// Whether any line to the primary is up.
    public var isConnected: Bool { !lines.isEmpty }

    /// The lines the channel holds now (an adapter may forget every other connection).
    public var lineIDs: Set<LineID> { Set(lines.values) }

    /// Stops for good: no more connections, no more acknowledgements (after go-live, or on exit).
    public mutating func shutdown() -> [LinkAction] {
        stopped = true
        let old = orderedLines
        lines = [:]
        return old.map { LinkAction.close($0) }
    }

    /// The lines held, in index order (never hash order: the same calls give the same actions).
    private var orderedLines: [LineID] { lines.keys.sorted().map { lines[$0]! } }

    // MARK: The lines

    /// Every heartbeat interval (and once at the start): heartbeats and an acknowledgement out
    /// on every line, silence in, a connection for every line that is neither up nor connecting.
    public mutating func tick(now: Double) -> [LinkAction] {
        guard !stopped else { return [] }
        let beat: [ReplicationMessage] = [.heartbeat(time: primaryTime), .ack(sequence: nextSequence - 1, executedCount: executed, echo: primaryTime)]
        acknowledgedExecuted = executed
        unacknowledged = false
        var silent: [LineID] = []
        var declared = false
        var rejoin: [LinkAction] = []
        for index in monitor.silentLines(at: now) {
            if let line = lines[index] { silent.append(line) }
            rejoin += drop(lineIndex: index)
        }
        if synced, !primaryLost, monitor.peerIsDead(at: now) {
            primaryLost = true
            declared = true
            stopped = true   // a backup that declared its primary dead never talks to it again
            silent += orderedLines
            lines = [:]
        }
        // Heartbeats go to the lines that stay.
        var actions: [LinkAction] = orderedLines.map { LinkAction.send($0, beat) }
        for line in silent {
            if !declared { actions.append(.log("line \(line.index + 1) to the primary silent for more than \(Int(heartbeat.timeout * 1000)) ms: closing it")) }
            actions.append(.close(line))
        }
        if declared {
            actions.append(.log("primary lost: every line silent for more than \(Int(heartbeat.timeout * 1000)) ms (primary '\(primaryID ?? "?")')"))
            actions.append(.ring)
        }
        guard !stopped else { return actions }
        actions += rejoin
        if !synced && lines.isEmpty && lastWaitingReport.map({ now - $0 > 5 }) ?? true {
            lastWaitingReport = now
            actions.append(.log("waiting for the primary at " + peers.joined(separator: ", ")))
        }
        for index in peers.indices where lines[index] == nil && !connecting.contains(index) {
            connecting.insert(index)
            actions.append(.connect(lineIndex: index))
        }
        return actions
    }

    /// The connection opened for ``LinkAction/connect(lineIndex:)`` could not be made, or has
    /// closed: the line may be connected again. (The line stays "connecting" until then: a
    /// connection still in its handshake, or authenticated, is not opened again beside it.)
    public mutating func connectionEnded(lineIndex: Int) {
        connecting.remove(lineIndex)
    }

    /// A connection finished its handshake with the primary `peerNodeID`: a synchronised backup
    /// resumes on it, one that has not asked for the initial state yet joins on it.
    public mutating func lineAuthenticated(_ line: LineID, peerNodeID peer: String, now: Double) -> [LinkAction] {
        guard !stopped else { return [.close(line)] }
        var actions: [LinkAction] = []
        if let old = lines[line.index] { actions.append(.close(old)) }
        lines[line.index] = line
        monitor.heard(line: line.index, at: now)
        primaryID = peer
        actions.append(.log("line \(line.index + 1) up to primary '\(peer)'"))
        if synced {
            actions.append(.send(line, [.resume(nextSequence: nextSequence)]))
        } else if joinLine == nil || joinLine == line.index {
            // A new connection on the joining line replaces the one the state was coming on:
            // what arrived of it is dropped, and the join starts over here.
            joinLine = line.index
            snapshotBytes = []
            actions.append(.send(line, [joinMessage]))
        }
        return actions
    }

    /// A message from the primary on `line` (ignored if that connection was replaced or
    /// dropped). What a primary may not send, or sends out of order, closes the line.
    public mutating func received(_ message: ReplicationMessage, on line: LineID, now: Double) -> [LinkAction] {
        guard lines[line.index] == line else { return [] }
        monitor.heard(line: line.index, at: now)
        var ring = false
        var problem: String?
        var actions: [LinkAction] = []
        switch message {
        case .snapshotChunk(let generation, let start, let offset, let total, let bytes):
            // The log starts at entry 1, and a start beyond the last number would leave no
            // room to count on (`nextSequence - 1` and `+ 1` must not trap on what a peer sent).
            guard !synced, joinLine == line.index, offset == UInt64(snapshotBytes.count),
                  total <= 1 << 36, offset + UInt64(bytes.count) <= total,
                  start >= 1, start < UInt64.max else {
                problem = "an unexpected piece of the initial state"
                break
            }
            snapshotBytes += bytes
            snapshotGeneration = generation
            if UInt64(snapshotBytes.count) == total {
                initialState = BackupLink.InitialState(snapshot: snapshotBytes, generation: generation)
                snapshotBytes = []
                synced = true
                nextSequence = start
                monitor.reset(now: now)
                monitor.heard(line: line.index, at: now)
                // The other lines, up already, resume where the log starts.
                for other in orderedLines where other != line {
                    actions.append(.send(other, [.resume(nextSequence: start)]))
                }
                ring = true
            }
        case .entry(let sequence, let entry):
            guard synced else { problem = "a log entry before the initial state"; break }
            if sequence == nextSequence {
                entries.append(entry)
                nextSequence += 1
                unacknowledged = true
                ring = true
            } else if sequence > nextSequence {
                problem = "entry \(sequence) when \(nextSequence) was due"
            }
            // An older sequence number is a copy from the other line (or a resend): dropped.
        case .heartbeat(let time):
            primaryTime = max(primaryTime, time)
        case .diskPlan(let generation, let disks):
            guard !synced, joinLine == line.index, joinMessage != .join else { problem = "an unexpected copy plan"; break }
            copyTransfers.append(.plan(generation: generation, disks: disks))
            ring = true
        case .diskExtent(let disk, let index, let compressed, let bytes):
            guard !synced, joinLine == line.index, case .joinWithDisks = joinMessage else { problem = "an unexpected disk extent"; break }
            copyTransfers.append(.extent(disk: disk, index: index, compressed: compressed, bytes: bytes))
            ring = true
        case .ramPages(let pages, let compressed, let bytes):
            guard !synced, joinLine == line.index, joinMessage != .join else { problem = "unexpected memory pages"; break }
            copyTransfers.append(.pages(pages, compressed: compressed, bytes: bytes))
            ring = true
        case .handover(let lastSequence, let instructionCount):
            guard synced else { problem = "a handover before the initial state"; break }
            handoverPending = (lastSequence, instructionCount)
            ring = true
        case .hello, .proof, .refuse, .join, .resume, .ack, .joinWithDisks, .joinLive:
            problem = "a primary does not send \(message.kind)"
        }
        if let problem {
            actions.append(.log("closing line \(line.index + 1): \(problem)"))
            actions.append(.close(line))
        }
        if ring { actions.append(.ring) }
        return actions
    }

    /// Everything that arrived in one read on a line has been handled: acknowledge the new
    /// entries (on every line), once per read rather than once per entry.
    public mutating func readComplete(on line: LineID, now: Double) -> [LinkAction] {
        guard unacknowledged, !stopped else { return [] }
        unacknowledged = false
        acknowledgedExecuted = executed
        let ack = ReplicationMessage.ack(sequence: nextSequence - 1, executedCount: executed, echo: primaryTime)
        return orderedLines.map { LinkAction.send($0, [ack]) }
    }

    /// The connection `line` closed (ignored if it had been replaced or dropped). A line that
    /// was receiving the initial state drops what it had: the next join starts over.
    public mutating func lineClosed(_ line: LineID, now: Double) -> [LinkAction] {
        guard lines[line.index] == line else { return [] }
        let rejoin = drop(lineIndex: line.index)
        return stopped ? [] : [.log("line \(line.index + 1) to the primary closed")] + rejoin
    }

    /// Forgets the line at `index`, closed or gone silent. If the initial state was coming on
    /// it, what arrived is dropped and the backup joins again on another line that is up (a
    /// join that waited for a dead line would wait forever while the other line's heartbeats
    /// keep both sides content: found by the cluster simulation).
    private mutating func drop(lineIndex index: Int) -> [LinkAction] {
        lines[index] = nil
        monitor.forget(line: index)
        guard joinLine == index, !synced else { return [] }
        joinLine = nil
        snapshotBytes = []
        guard !stopped, let other = orderedLines.first else { return [] }
        joinLine = other.index
        return [.log("the initial state was coming on line \(index + 1), which is gone: joining again on line \(other.index + 1)"),
                .send(other, [joinMessage])]
    }

    /// The primary refused this node on `line` (and closes it): the machine thread learns why.
    public mutating func refused(_ line: LineID, reason: String, now: Double) -> [LinkAction] {
        refusal = reason
        return [.log("line \(line.index + 1) refused: \(reason)"), .ring]
    }
}
