@testable import Replication
import Testing

/// A primary core and a backup core joined by a tiny simulated network, on a virtual clock: the
/// real protocol code with no sockets, no threads and no waiting. Messages travel in order per
/// direction and arrive when ``run()`` pumps them; ``advance(by:)`` moves the clock in heartbeat
/// intervals and ticks both sides. A test breaks the network with ``cut(_:)``, ``unreachable``
/// and the two `drop` sets.
struct ChannelPump {
    static let heartbeat = HeartbeatSettings(interval: 0.05, timeout: 0.4)
    /// The virtual clock, in seconds (any base: the cores only compare times).
    var now: Double = 1_000
    var primary: PrimaryChannel
    var backup: BackupChannel
    var backupNodeID = "B"

    /// Connections up (both ends name a connection by the same ``LineID``).
    private(set) var open: Set<LineID> = []
    private var nextConnection: UInt64 = 0
    /// Line indices whose connection attempts fail.
    var unreachable: Set<Int> = []
    /// Line indices that silently lose what the primary sends (the connection stays up).
    var dropToBackup: Set<Int> = []
    /// Line indices that silently lose what the backup sends.
    var dropToPrimary: Set<Int> = []

    /// What is on the wire, per direction, in order.
    private var toBackup: [(LineID, Wire)] = []
    private var toPrimary: [(LineID, Wire)] = []
    enum Wire { case message(ReplicationMessage), refusal(String) }

    /// Every message the backup core received: on which line index.
    private(set) var receivedByBackup: [(line: Int, message: ReplicationMessage)] = []
    private(set) var primaryRings = 0
    private(set) var backupRings = 0
    private(set) var primaryLog: [String] = []
    private(set) var backupLog: [String] = []
    /// Every action either core returned, with the time and side (for determinism checks).
    private(set) var trace: [String] = []

    init() {
        primary = PrimaryChannel(vm: "kv", heartbeat: Self.heartbeat, now: now)
        backup = BackupChannel(peers: ["p:1", "p:2"], heartbeat: Self.heartbeat, now: now)
    }

    /// The primary's status now.
    var status: PrimaryLink.Status { primary.status(now: now) }

    // MARK: Driving

    /// The backup's first tick (as `BackupLink.start` does), then everything that follows.
    mutating func start() {
        performBackup(backup.tick(now: now))
        run()
    }

    /// A backup that joined and holds the initial state `[7]`, both lines resumed.
    mutating func synchronised() {
        start()
        performPrimary(primary.sendSnapshot([7], generation: 1, now: now).actions)
        run()
        _ = backup.takeInitialState()
    }

    /// Appends `entry` on the primary (delivered by the next ``run()``).
    @discardableResult
    mutating func append(_ entry: LogEntry) -> UInt64 {
        let (sequence, actions) = primary.append(entry, now: now)
        performPrimary(actions)
        return sequence
    }

    /// Moves the clock in heartbeat intervals, ticking both sides and pumping after each.
    mutating func advance(by seconds: Double) {
        let end = now + seconds
        while now + Self.heartbeat.interval <= end + 1e-9 {
            now += Self.heartbeat.interval
            performPrimary(primary.tick(now: now))
            performBackup(backup.tick(now: now))
            run()
        }
    }

    /// Delivers everything in flight (and what that causes) at the current time. The backup
    /// hears "read complete" on a line after each batch it received on it.
    mutating func run() {
        while !toBackup.isEmpty || !toPrimary.isEmpty {
            let batch = toBackup
            toBackup = []
            var read: [LineID] = []
            for (line, wire) in batch where open.contains(line) {
                switch wire {
                case .message(let message):
                    receivedByBackup.append((line.index, message))
                    performBackup(backup.received(message, on: line, now: now))
                    if !read.contains(line) { read.append(line) }
                case .refusal(let reason):
                    performBackup(backup.refused(line, reason: reason, now: now))
                    disconnect(line)
                }
            }
            for line in read where open.contains(line) { performBackup(backup.readComplete(on: line, now: now)) }
            let back = toPrimary
            toPrimary = []
            for (line, wire) in back where open.contains(line) {
                switch wire {
                case .message(let message): performPrimary(primary.received(message, on: line, now: now))
                case .refusal(let reason):
                    performPrimary(primary.refused(line, reason: reason, now: now))
                    disconnect(line)
                }
            }
        }
    }

    /// Closes the connection of line `index` (both ends hear of it) and keeps the line down.
    mutating func cut(_ index: Int) {
        unreachable.insert(index)
        for line in open.filter({ $0.index == index }) { disconnect(line) }
    }

    // MARK: Performing the cores' actions

    mutating func performPrimary(_ actions: [LinkAction]) {
        for action in actions {
            trace.append("\(now) P \(Self.describe(action))")
            switch action {
            case .send(let line, let messages):
                if open.contains(line) && !dropToBackup.contains(line.index) { toBackup += messages.map { (line, .message($0)) } }
            case .close(let line):
                disconnect(line)
            case .refuse(let line, let reason):
                if open.contains(line) { toBackup.append((line, .refusal(reason))) }
            case .connect:
                Issue.record("the primary asked for a connection")
            case .ring:
                primaryRings += 1
            case .log(let text):
                primaryLog.append(text)
            }
        }
    }

    mutating func performBackup(_ actions: [LinkAction]) {
        for action in actions {
            trace.append("\(now) B \(Self.describe(action))")
            switch action {
            case .send(let line, let messages):
                if open.contains(line) && !dropToPrimary.contains(line.index) { toPrimary += messages.map { (line, .message($0)) } }
            case .close(let line):
                disconnect(line)
            case .refuse(let line, let reason):
                if open.contains(line) { toPrimary.append((line, .refusal(reason))) }
            case .connect(let index):
                connect(index)
            case .ring:
                backupRings += 1
            case .log(let text):
                backupLog.append(text)
            }
        }
    }

    /// An action for the trace, with the bytes of snapshot chunks counted rather than listed.
    static func describe(_ action: LinkAction) -> String {
        guard case .send(let line, let messages) = action else { return "\(action)" }
        let described = messages.map { message in
            guard case .snapshotChunk(let generation, let start, let offset, let total, let bytes) = message else { return "\(message)" }
            return "snapshotChunk(generation: \(generation), startSequence: \(start), offset: \(offset), total: \(total), \(bytes.count) bytes)"
        }
        return "send(\(line), \(described))"
    }

    /// A connection attempt: it fails at once on an unreachable line; otherwise both ends
    /// authenticate (the primary first) and the backup's attempt lasts until the connection closes.
    private mutating func connect(_ index: Int) {
        guard !unreachable.contains(index) else {
            backup.connectionEnded(lineIndex: index)
            return
        }
        nextConnection += 1
        let line = LineID(index: index, connection: nextConnection)
        open.insert(line)
        performPrimary(primary.lineAuthenticated(line, peerNodeID: backupNodeID, now: now))
        guard open.contains(line) else { return }
        performBackup(backup.lineAuthenticated(line, peerNodeID: "P", now: now))
    }

    /// The connection closes: what was in flight on it is lost, both ends hear of it.
    private mutating func disconnect(_ line: LineID) {
        guard open.remove(line) != nil else { return }
        toBackup.removeAll { $0.0 == line }
        toPrimary.removeAll { $0.0 == line }
        performPrimary(primary.lineClosed(line, now: now))
        performBackup(backup.lineClosed(line, now: now))
        backup.connectionEnded(lineIndex: line.index)
    }
}
