import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The backup's side of the logging channel: connects both lines to the primary (and reconnects
/// a line that drops), asks for the initial state, receives log entries in order (each entry
/// arrives on every live line; duplicates are dropped by sequence number), acknowledges what it
/// has, and declares the primary dead when every line has been silent for the timeout.
///
/// The protocol itself is ``BackupChannel``, a pure state machine; this class is its SwiftNIO
/// adapter: it holds the core under a lock, reads the clock once per event, maps the core's
/// ``LineID``s to ``Line``s, runs the heartbeat timer, opens the connections the core asks for
/// and performs the core's other ``LinkAction``s.
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
    private var core: BackupChannel
    private var table = LineTable()
    private var timer: RepeatedTask?

    public init(authentication: PeerAuthentication, heartbeat: HeartbeatSettings, doorbell: Doorbell, log: NodeLog,
                group: EventLoopGroup, peers: [(host: String, port: Int)], joinMessage: ReplicationMessage = .join) {
        self.authentication = authentication
        self.heartbeat = heartbeat
        self.doorbell = doorbell
        self.log = log
        self.group = group
        self.peers = peers
        core = BackupChannel(peers: peers.map { "\($0.host):\($0.port)" }, heartbeat: heartbeat, now: monotonicNow())
        core.joinMessage = joinMessage
    }

    /// The disk copy's messages received since the last call, in order.
    public func takeCopyTransfers() -> [CopyTransfer] {
        lock.withLock { core.takeCopyTransfers() }
    }

    /// Starts connecting the lines.
    public func start() {
        let interval = TimeAmount.nanoseconds(Int64(heartbeat.interval * 1e9))
        let task = group.next().scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [weak self] _ in self?.tick() }
        lock.withLock { timer = task }
    }

    /// Stops for good: no more connections, no more acknowledgements (after go-live, or on exit).
    public func shutdown() {
        let (effects, task): (LineEffects, RepeatedTask?) = lock.withLock {
            (table.resolve(core.shutdown(), held: core.lineIDs), timer)
        }
        task?.cancel()
        effects.perform(doorbell: doorbell, log: log)
    }

    /// The initial state once it has arrived whole.
    public func takeInitialState() -> InitialState? {
        lock.withLock { core.takeInitialState() }
    }

    /// Removes and returns the entries received so far, in order.
    public func takeEntries() -> [LogEntry] {
        lock.withLock { core.takeEntries() }
    }

    /// What the machine thread has executed (reported to the primary with acknowledgements).
    public func noteExecuted(_ count: UInt64) {
        lock.withLock { core.noteExecuted(count) }
    }

    /// The machine thread executed everything it received (see ``BackupChannel/caughtUp()``).
    public func reportCaughtUp() {
        drive { core, _ in core.caughtUp() }
    }

    /// Every line silent for the timeout after the backup was synchronised.
    public var isPrimaryLost: Bool { lock.withLock { core.isPrimaryLost } }

    /// Why the primary refused this node, if it did.
    public var refusedReason: String? { lock.withLock { core.refusedReason } }
    /// The count the primary handed over at, once every entry before it arrived.
    public var handover: UInt64? { lock.withLock { core.handover } }

    /// When the primary was last heard on any line (the monotonic clock).
    public var lastHeard: Double? { lock.withLock { core.lastHeard } }

    /// Whether any line to the primary is up.
    public var isConnected: Bool { lock.withLock { core.isConnected } }

    /// Runs one event through the core under the lock (with the time, read once), then performs
    /// its actions after the lock: on the event loop, channel operations run at once and may
    /// call back into this object. `line` is a new connection the core is about to hear of.
    private func drive(adding line: Line? = nil, _ event: (inout BackupChannel, Double) -> [LinkAction]) {
        let effects = lock.withLock {
            if let line { table.add(line) }
            let actions = event(&core, monotonicNow())
            return table.resolve(actions, held: core.lineIDs)
        }
        effects.perform(doorbell: doorbell, log: log, connect: connect)
    }

    // MARK: Event loop

    private func tick() {
        drive { core, now in core.tick(now: now) }
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
                    self.lock.withLock { self.core.connectionEnded(lineIndex: index) }
                }
            case .failure:
                self.lock.withLock { self.core.connectionEnded(lineIndex: index) }
            }
        }
    }

    func lineAuthenticated(_ line: Line) {
        drive(adding: line) { core, now in core.lineAuthenticated(line.id, peerNodeID: line.peer?.nodeID ?? "?", now: now) }
    }

    func line(_ line: Line, received message: ReplicationMessage) {
        drive { core, now in core.received(message, on: line.id, now: now) }
    }

    func lineReadComplete(_ line: Line) {
        drive { core, now in core.readComplete(on: line.id, now: now) }
    }

    func lineClosed(_ line: Line) {
        drive { core, now in core.lineClosed(line.id, now: now) }
    }

    func lineRefused(_ line: Line, reason: String) {
        drive { core, now in core.refused(line.id, reason: reason, now: now) }
    }
}
