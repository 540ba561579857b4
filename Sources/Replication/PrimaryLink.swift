import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The primary's side of the logging channel: listens on the two line addresses, accepts one
/// backup (authenticated), sends it the initial snapshot and then every log entry on every live
/// line, collects its acknowledgements, and watches the heartbeats.
///
/// The machine thread calls ``append(_:)``, ``sendSnapshot(_:generation:)`` and reads
/// ``status``; everything else happens on the event loop. Interesting changes ring the doorbell.
public final class PrimaryLink: LineOwner, @unchecked Sendable {
    /// What the machine thread needs to know.
    public struct Status: Sendable {
        public init(lastSequence: UInt64, acknowledged: UInt64, backupExecuted: UInt64, hasBackup: Bool, backupLost: Bool,
                    joinRequested: Bool, retainedEntries: Int, sentEntries: UInt64, sentBytes: UInt64) {
            self.lastSequence = lastSequence
            self.acknowledged = acknowledged
            self.backupExecuted = backupExecuted
            self.hasBackup = hasBackup
            self.backupLost = backupLost
            self.joinRequested = joinRequested
            self.retainedEntries = retainedEntries
            self.sentEntries = sentEntries
            self.sentBytes = sentBytes
        }

        /// Sequence number of the last entry appended (0: none yet).
        public var lastSequence: UInt64
        /// The backup has every entry up to this one.
        public var acknowledged: UInt64
        /// The backup has executed up to this instruction count.
        public var backupExecuted: UInt64
        /// A backup is synchronised and receiving the log.
        public var hasBackup: Bool
        /// Every line has been silent for the timeout: the backup is gone.
        public var backupLost: Bool
        /// A backup asked for the initial state on this line.
        public var joinRequested: Bool
        /// Unacknowledged entries held for resending.
        public var retainedEntries: Int
        /// The backup echoed a heartbeat this primary sent less than half the heartbeat timeout
        /// ago (by the primary's own clock). A primary releases output under its backup's
        /// acknowledgements only while this holds. The backup declares the primary dead only
        /// after a whole timeout without hearing it, so a primary that was frozen (stopped,
        /// starved) long enough for that cannot release, on waking, outputs acknowledged before
        /// the freeze: messages the backup sent during the freeze echo old times.
        public var leaseValid: Bool = true
        /// Entries and bytes (whole frames, one line's worth) sent to backups so far.
        public var sentEntries: UInt64
        public var sentBytes: UInt64
    }

    let authentication: PeerAuthentication
    let heartbeat: HeartbeatSettings
    let doorbell: Doorbell
    let log: NodeLog
    let group: EventLoopGroup
    private let lock = NIOLock()
    // Guarded by lock:
    private var backupID: String?
    private var lines: [Int: Line] = [:]
    private var liveLines: Set<Int> = []
    private var retained: Deque<(UInt64, LogEntry)> = []
    private var nextSequence: UInt64 = 1
    private var acknowledged: UInt64 = 0
    private var backupExecuted: UInt64 = 0
    private var synced = false
    private var lost = false
    private var joinLine: Int?
    private var latestEcho: UInt64 = 0
    private var sentEntries: UInt64 = 0
    private var sentBytes: UInt64 = 0
    private var monitor: SilenceMonitor
    private var servers: [Channel] = []
    private var timer: RepeatedTask?

    public init(authentication: PeerAuthentication, heartbeat: HeartbeatSettings, doorbell: Doorbell,
                log: NodeLog, group: EventLoopGroup) {
        self.authentication = authentication
        self.heartbeat = heartbeat
        self.doorbell = doorbell
        self.log = log
        self.group = group
        monitor = SilenceMonitor(timeout: heartbeat.timeout, now: monotonicNow())
    }

    /// Starts listening on the line addresses; returns the bound addresses (port 0 picks one).
    public func listen(on addresses: [(host: String, port: Int)]) throws(ReplicationError) -> [(host: String, port: Int)] {
        var bound: [(host: String, port: Int)] = []
        for (index, address) in addresses.enumerated() {
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addLineHandlers(index: index, authentication: authentication, owner: self, log: log,
                                                                    handshakeTimeout: heartbeat.handshakeTimeout)
                    }
                }
            do {
                let server = try bootstrap.bind(host: address.host, port: address.port).wait()
                lock.withLock { servers.append(server) }
                bound.append((address.host, server.localAddress?.port ?? address.port))
            } catch {
                throw .cannotListen(address: "\(address.host):\(address.port)", reason: "\(error)")
            }
        }
        let interval = TimeAmount.nanoseconds(Int64(heartbeat.interval * 1e9))
        let task = group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in self?.tick() }
        lock.withLock { timer = task }
        return bound
    }

    /// Stops listening and drops the backup.
    public func shutdown() {
        let (toClose, task): ([Channel], RepeatedTask?) = lock.withLock {
            let all = servers + lines.values.map(\.channel)
            servers = []
            lines = [:]
            return (all, timer)
        }
        task?.cancel()
        for channel in toClose { channel.close(promise: nil) }
    }

    public var status: Status {
        lock.withLock {
            var status = Status(lastSequence: nextSequence - 1, acknowledged: acknowledged, backupExecuted: backupExecuted,
                                hasBackup: synced && !lost, backupLost: lost, joinRequested: joinLine != nil, retainedEntries: retained.count,
                                sentEntries: sentEntries, sentBytes: sentBytes)
            status.leaseValid = Self.nanoseconds() &- latestEcho < UInt64(heartbeat.timeout / 2 * 1e9)
            return status
        }
    }

    /// Assigns the next sequence number to `entry` and sends it to the backup, if there is one.
    @discardableResult
    public func append(_ entry: LogEntry) -> UInt64 {
        lock.withLock {
            let sequence = nextSequence
            nextSequence += 1
            guard synced, !lost else { return sequence }
            retained.append((sequence, entry))
            // Sent under the lock to keep the order of entries against a resend (`resume`). This
            // runs on the machine thread, never on the event loop, so the write only queues.
            let message = ReplicationMessage.entry(sequence: sequence, entry)
            for index in liveLines { lines[index]?.send(message) }
            sentEntries += 1
            sentBytes += UInt64(ReplicationFrameCodec.frameSize(message))
            return sequence
        }
    }

    /// Sends the initial state to the backup that asked for it; the log continues after it.
    /// Returns false if the backup went away meanwhile.
    @discardableResult
    public func sendSnapshot(_ snapshot: [UInt8], generation: UInt64) -> Bool {
        lock.withLock {
            guard let index = joinLine, let line = lines[index] else { joinLine = nil; return false }
            joinLine = nil
            let start = nextSequence
            let chunk = 1 << 20
            var messages: [ReplicationMessage] = []
            var offset = 0
            repeat {
                let end = min(offset + chunk, snapshot.count)
                messages.append(.snapshotChunk(generation: generation, startSequence: start, offset: UInt64(offset),
                                               total: UInt64(snapshot.count), bytes: Array(snapshot[offset..<end])))
                offset = end
            } while offset < snapshot.count
            line.send(messages)
            retained = []
            acknowledged = start - 1
            synced = true
            lost = false
            liveLines = [index]
            monitor.reset(now: monotonicNow())
            log("sent the initial state (\(snapshot.count) bytes, generation \(generation)) to backup \(backupID ?? "?"); the log starts at entry \(start)")
            return true
        }
    }

    /// After the primary won the arbiter without its backup: forget it, accept a new one.
    public func forgetBackup() {
        let old: [Line] = lock.withLock {
            let old = Array(lines.values)
            lines = [:]
            liveLines = []
            retained = []
            backupID = nil
            synced = false
            lost = false
            joinLine = nil
            return old
        }
        for line in old { line.refuse("this primary has moved on without you (its backup was declared lost); restart the backup to join again") }
    }

    // MARK: LineOwner (event loop)

    func lineAuthenticated(_ line: Line) {
        guard let peer = line.peer else { return }
        var replaced: [Line] = []
        let refusal: String? = lock.withLock {
            if let current = backupID, current != peer.nodeID, synced, !lost {
                return "VM '\(authentication.vm)' already has a backup (node '\(current)')"
            }
            if backupID != peer.nodeID {
                // A new backup replaces one that never finished joining or is gone.
                replaced += lines.values
                lines = [:]
                liveLines = []
                synced = false
                lost = false
                joinLine = nil
                backupID = peer.nodeID
            }
            if let old = lines[line.index] { replaced.append(old) }
            lines[line.index] = line
            monitor.heard(line: line.index, at: monotonicNow())
            return nil
        }
        for old in replaced { old.close() }
        if let refusal {
            log("refused node '\(peer.nodeID)': \(refusal)")
            line.refuse(refusal)
            return
        }
        log("line \(line.index + 1) up to backup '\(peer.nodeID)'")
    }

    func line(_ line: Line, received message: ReplicationMessage) {
        var ring = false
        var resend: [ReplicationMessage] = []
        var refusal: String?
        lock.withLock {
            guard lines[line.index] === line else { return }
            monitor.heard(line: line.index, at: monotonicNow())
            switch message {
            case .join:
                synced = false
                liveLines = []
                retained = []
                joinLine = line.index
                ring = true
            case .resume(let next):
                guard synced, !lost else {
                    refusal = "this primary has no synchronised backup: restart the backup so that it joins again"
                    return
                }
                // Sent below, after the lock, but before any entry appended from now on: those
                // are written from the machine thread, so they queue behind this handler.
                resend = retained.filter { $0.0 >= next }.map { .entry(sequence: $0.0, $0.1) }
                liveLines.insert(line.index)
            case .ack(let sequence, let executed, let echo):
                guard synced else { return }
                renewLease(echo, ring: &ring)
                if sequence > acknowledged {
                    acknowledged = min(sequence, nextSequence - 1)
                    while let first = retained.first, first.0 <= acknowledged { retained.removeFirst() }
                    ring = true
                }
                if executed > backupExecuted { backupExecuted = executed; ring = true }
            case .heartbeat(let echo):
                renewLease(echo, ring: &ring)
            case .hello, .proof, .refuse, .snapshotChunk, .entry:
                refusal = "a backup does not send \(message.kind)"
            }
        }
        line.send(resend)
        if let refusal { line.refuse(refusal) }
        if ring { doorbell.ring() }
    }

    func lineReadComplete(_ line: Line) {}

    /// Takes a newer echo (under the lock). A lease that had run out and is renewed wakes the
    /// machine thread, which may hold acknowledged output.
    private func renewLease(_ echo: UInt64, ring: inout Bool) {
        // An echo is a time this primary sent: one later than its clock is not, and kept it
        // would hide every true echo after it (the lease would read as lost until then).
        let now = Self.nanoseconds()
        guard echo > latestEcho, echo <= now else { return }
        if now &- latestEcho >= UInt64(heartbeat.timeout / 2 * 1e9) { ring = true }
        latestEcho = echo
    }

    /// The primary's clock as heartbeats carry it.
    static func nanoseconds() -> UInt64 { UInt64(monotonicNow() * 1e9) }

    func lineClosed(_ line: Line) {
        let report: Bool = lock.withLock {
            guard lines[line.index] === line else { return false }
            lines[line.index] = nil
            liveLines.remove(line.index)
            monitor.forget(line: line.index)
            if joinLine == line.index { joinLine = nil }
            return true
        }
        if report {
            let others = lock.withLock { lines.count }
            log("line \(line.index + 1) to the backup closed" + (others > 0 ? " (the other line carries on)" : ""))
        }
    }

    func lineRefused(_ line: Line, reason: String) {
        log("line \(line.index + 1) refused: \(reason)")
    }

    /// Every heartbeat interval: heartbeats out, silence in.
    private func tick() {
        let now = monotonicNow()
        var silent: [Line] = []
        var declaredLost = false
        // Channel operations happen outside the lock: on the event loop they run at once and may
        // call back into this object (a write that fails closes the channel, which reports it).
        let live: [Line] = lock.withLock {
            let live = Array(lines.values)
            for index in monitor.silentLines(at: now) {
                if let line = lines[index] { silent.append(line) }
                lines[index] = nil
                liveLines.remove(index)
                monitor.forget(line: index)
            }
            if synced, !lost, monitor.peerIsDead(at: now) {
                lost = true
                declaredLost = true
            }
            return live
        }
        let time = Self.nanoseconds()
        for line in live { line.send(.heartbeat(time: time)) }
        for line in silent {
            log("line \(line.index + 1) silent for more than \(Int(heartbeat.timeout * 1000)) ms: closing it")
            line.close()
        }
        if declaredLost {
            log("backup lost: every line silent for more than \(Int(heartbeat.timeout * 1000)) ms")
            doorbell.ring()
        }
    }
}
