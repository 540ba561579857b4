import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The backup's side of the logging channel: connects both lines to the primary (and reconnects
/// a line that drops), asks for the initial state, receives log entries in order (each entry
/// arrives on every live line; duplicates are dropped by sequence number), acknowledges what it
/// has, and declares the primary dead when every line has been silent for the timeout.
public final class BackupLink: LineOwner, @unchecked Sendable {
    /// The initial state, complete.
    public struct InitialState: Sendable {
        public var snapshot: [UInt8]
        public var generation: UInt64
    }

    let authentication: PeerAuthentication
    let heartbeat: HeartbeatSettings
    let doorbell: Doorbell
    let log: NodeLog
    let group: EventLoopGroup
    let peers: [(host: String, port: Int)]
    private let lock = NIOLock()
    // Guarded by lock:
    private var lines: [Int: Line] = [:]
    private var connecting: Set<Int> = []
    private var joinLine: Int?
    private var snapshotBytes: [UInt8] = []
    private var snapshotGeneration: UInt64 = 0
    private var initialState: InitialState?
    private var synced = false
    private var entries: Deque<LogEntry> = []
    private var nextSequence: UInt64 = 1
    private var executed: UInt64 = 0
    /// The latest time (the primary's clock) in a heartbeat from the primary: echoed back.
    private var primaryTime: UInt64 = 0
    private var unacknowledged = false
    private var primaryLost = false
    private var refusal: String?
    private var stopped = false
    private var monitor: SilenceMonitor
    private var timer: RepeatedTask?
    private var lastWaitingReport = 0.0

    public init(authentication: PeerAuthentication, heartbeat: HeartbeatSettings, doorbell: Doorbell, log: NodeLog,
                group: EventLoopGroup, peers: [(host: String, port: Int)]) {
        self.authentication = authentication
        self.heartbeat = heartbeat
        self.doorbell = doorbell
        self.log = log
        self.group = group
        self.peers = peers
        monitor = SilenceMonitor(timeout: heartbeat.timeout, now: monotonicNow())
    }

    /// Starts connecting the lines.
    public func start() {
        let interval = TimeAmount.nanoseconds(Int64(heartbeat.interval * 1e9))
        let task = group.next().scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [weak self] _ in self?.tick() }
        lock.withLock { timer = task }
    }

    /// Stops for good: no more connections, no more acknowledgements (after go-live, or on exit).
    public func shutdown() {
        let (old, task): ([Line], RepeatedTask?) = lock.withLock {
            stopped = true
            let old = Array(lines.values)
            lines = [:]
            return (old, timer)
        }
        task?.cancel()
        for line in old { line.close() }
    }

    /// The initial state once it has arrived whole.
    public func takeInitialState() -> InitialState? {
        lock.withLock {
            defer { initialState = nil }
            return initialState
        }
    }

    /// Removes and returns the entries received so far, in order.
    public func takeEntries() -> [LogEntry] {
        lock.withLock {
            defer { entries.removeAll(keepingCapacity: true) }
            return Array(entries)
        }
    }

    /// What the machine thread has executed (reported to the primary with acknowledgements).
    public func noteExecuted(_ count: UInt64) {
        lock.withLock { executed = count }
    }

    /// Every line silent for the timeout after the backup was synchronised.
    public var isPrimaryLost: Bool { lock.withLock { primaryLost } }

    /// Why the primary refused this node, if it did.
    public var refusedReason: String? { lock.withLock { refusal } }

    /// Whether any line to the primary is up.
    public var isConnected: Bool { lock.withLock { !lines.isEmpty } }

    // MARK: Event loop

    private func tick() {
        let now = monotonicNow()
        var silent: [Line] = []
        var declared = false
        var toConnect: [Int] = []
        var waiting = false
        var beats: [Line] = []
        var beat: [ReplicationMessage] = []
        lock.withLock {
            guard !stopped else { return }
            // Sent after the lock (see PrimaryLink.tick).
            beats = Array(lines.values)
            beat = [.heartbeat(time: primaryTime), .ack(sequence: nextSequence - 1, executedCount: executed, echo: primaryTime)]
            unacknowledged = false
            for index in monitor.silentLines(at: now) {
                if let line = lines[index] { silent.append(line) }
                lines[index] = nil
                monitor.forget(line: index)
            }
            if synced, !primaryLost, monitor.peerIsDead(at: now) {
                primaryLost = true
                declared = true
                stopped = true   // a backup that declared its primary dead never talks to it again
                silent += lines.values
                lines = [:]
            }
            if !stopped {
                for index in peers.indices where lines[index] == nil && !connecting.contains(index) {
                    connecting.insert(index)
                    toConnect.append(index)
                }
                if !synced && lines.isEmpty && now - lastWaitingReport > 5 {
                    lastWaitingReport = now
                    waiting = true
                }
            }
        }
        for line in beats where !silent.contains(where: { $0 === line }) { line.send(beat) }
        for line in silent {
            if !declared { log("line \(line.index + 1) to the primary silent for more than \(Int(heartbeat.timeout * 1000)) ms: closing it") }
            line.close()
        }
        if declared {
            log("primary lost: every line silent for more than \(Int(heartbeat.timeout * 1000)) ms")
            doorbell.ring()
        }
        if waiting {
            log("waiting for the primary at " + peers.map { "\($0.host):\($0.port)" }.joined(separator: ", "))
        }
        for index in toConnect { connect(index) }
    }

    private func connect(_ index: Int) {
        let peer = peers[index]
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(max(50, heartbeat.timeout * 1000))))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addLineHandlers(index: index, authentication: authentication, owner: self, log: log,
                                                                    handshakeTimeout: heartbeat.handshakeTimeout)
                }
            }
        // The line stays "connecting" until the connection closes: a connection still in its
        // handshake (or authenticated) is not opened again beside it.
        bootstrap.connect(host: peer.host, port: peer.port).whenComplete { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let channel):
                channel.closeFuture.whenComplete { [weak self] _ in
                    guard let self else { return }
                    self.lock.withLock { _ = self.connecting.remove(index) }
                }
            case .failure:
                self.lock.withLock { _ = self.connecting.remove(index) }
            }
        }
    }

    func lineAuthenticated(_ line: Line) {
        var toClose: [Line] = []
        let message: ReplicationMessage? = lock.withLock {
            guard !stopped else { toClose.append(line); return nil }
            if let old = lines[line.index] { toClose.append(old) }
            lines[line.index] = line
            monitor.heard(line: line.index, at: monotonicNow())
            if synced { return .resume(nextSequence: nextSequence) }
            if joinLine == nil {
                joinLine = line.index
                return .join
            }
            return nil
        }
        for old in toClose { old.close() }
        if toClose.contains(where: { $0 === line }) { return }
        log("line \(line.index + 1) up to primary '\(line.peer?.nodeID ?? "?")'")
        if let message { line.send(message) }
    }

    func line(_ line: Line, received message: ReplicationMessage) {
        var ring = false
        var problem: String?
        var resumes: [(Line, ReplicationMessage)] = []
        lock.withLock {
            guard lines[line.index] === line else { return }
            monitor.heard(line: line.index, at: monotonicNow())
            switch message {
            case .snapshotChunk(let generation, let start, let offset, let total, let bytes):
                // The log starts at entry 1, and a start beyond the last number would leave no
                // room to count on (`nextSequence - 1` and `+ 1` must not trap on what a peer sent).
                guard !synced, joinLine == line.index, offset == UInt64(snapshotBytes.count),
                      total <= 1 << 36, offset + UInt64(bytes.count) <= total,
                      start >= 1, start < UInt64.max else {
                    problem = "an unexpected piece of the initial state"
                    return
                }
                snapshotBytes += bytes
                snapshotGeneration = generation
                if UInt64(snapshotBytes.count) == total {
                    initialState = InitialState(snapshot: snapshotBytes, generation: generation)
                    snapshotBytes = []
                    synced = true
                    nextSequence = start
                    monitor.reset(now: monotonicNow())
                    monitor.heard(line: line.index, at: monotonicNow())
                    for other in lines.values where other !== line { resumes.append((other, .resume(nextSequence: start))) }
                    ring = true
                }
            case .entry(let sequence, let entry):
                guard synced else { problem = "a log entry before the initial state"; return }
                if sequence == nextSequence {
                    entries.append(entry)
                    nextSequence += 1
                    unacknowledged = true
                    ring = true
                } else if sequence > nextSequence {
                    problem = "entry \(sequence) when \(nextSequence) was due"
                }
            case .heartbeat(let time):
                primaryTime = max(primaryTime, time)
            case .hello, .proof, .refuse, .join, .resume, .ack:
                problem = "a primary does not send \(message.kind)"
            }
        }
        for (other, message) in resumes { other.send(message) }
        if let problem {
            log("closing line \(line.index + 1): \(problem)")
            line.close()
        }
        if ring { doorbell.ring() }
    }

    func lineReadComplete(_ line: Line) {
        let ack: ReplicationMessage? = lock.withLock {
            guard unacknowledged, !stopped else { return nil }
            unacknowledged = false
            return .ack(sequence: nextSequence - 1, executedCount: executed, echo: primaryTime)
        }
        guard let ack else { return }
        for other in lock.withLock({ Array(lines.values) }) { other.send(ack) }
    }

    func lineClosed(_ line: Line) {
        let report: Bool = lock.withLock {
            guard lines[line.index] === line else { return false }
            lines[line.index] = nil
            monitor.forget(line: line.index)
            if joinLine == line.index && !synced {
                joinLine = nil
                snapshotBytes = []
            }
            return !stopped
        }
        if report { log("line \(line.index + 1) to the primary closed") }
    }

    func lineRefused(_ line: Line, reason: String) {
        lock.withLock { refusal = reason }
        log("line \(line.index + 1) refused: \(reason)")
        doorbell.ring()
    }
}
