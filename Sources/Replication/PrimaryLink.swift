import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The primary's side of the logging channel: listens on the two line addresses, accepts one
/// backup (authenticated), sends it the initial snapshot and then every log entry on every live
/// line, collects its acknowledgements, and watches the heartbeats.
///
/// The protocol itself is ``PrimaryChannel``, a pure state machine; this class is its SwiftNIO
/// adapter: it holds the core under a lock, reads the clock once per event, maps the core's
/// ``LineID``s to ``Line``s, runs the heartbeat timer and performs the core's ``LinkAction``s.
///
/// The machine thread calls ``append(_:)``, ``sendSnapshot(_:generation:)`` and reads
/// ``status``; everything else happens on the event loop. Interesting changes ring the doorbell.
public final class PrimaryLink: LineOwner, @unchecked Sendable {
    let authentication: PeerAuthentication
    let heartbeat: HeartbeatSettings
    let doorbell: Doorbell
    let log: NodeLog
    let group: EventLoopGroup
    private let lock = NIOLock()
    // Guarded by lock:
    private var core: PrimaryChannel
    private var table = LineTable()
    private var servers: [Channel] = []
    private var timer: RepeatedTask?
    private var acknowledgementHandler: (() -> Void)?

    /// Called on the event loop after each acknowledgement is taken in (outside the lock).
    public var onAcknowledged: (() -> Void)? {
        get { lock.withLock { acknowledgementHandler } }
        set { lock.withLock { acknowledgementHandler = newValue } }
    }

    public init(authentication: PeerAuthentication, heartbeat: HeartbeatSettings, doorbell: Doorbell,
                log: NodeLog, group: EventLoopGroup) {
        self.authentication = authentication
        self.heartbeat = heartbeat
        self.doorbell = doorbell
        self.log = log
        self.group = group
        core = PrimaryChannel(vm: authentication.vm, heartbeat: heartbeat, now: monotonicNow())
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
        let (toClose, task, effects): ([Channel], RepeatedTask?, LineEffects) = lock.withLock {
            let all = servers
            servers = []
            return (all, timer, table.resolve(core.shutdown(), held: core.lineIDs))
        }
        task?.cancel()
        for channel in toClose { channel.close(promise: nil) }
        effects.perform(doorbell: doorbell, log: log)
    }

    public var status: Status {
        lock.withLock { core.status(now: monotonicNow()) }
    }

    /// Assigns the next sequence number to `entry` and sends it to the backup, if there is one.
    @discardableResult
    public func append(_ entry: LogEntry) -> UInt64 {
        lock.withLock {
            let (sequence, actions) = core.append(entry, now: monotonicNow())
            // Sent under the lock to keep the order of entries against a resend (`resume`). This
            // runs on the machine thread, never on the event loop, so the write only queues.
            table.resolve(actions, held: core.lineIDs).perform(doorbell: doorbell, log: log)
            return sequence
        }
    }

    /// Sends the initial state to the backup that asked for it; the log continues after it.
    /// Returns false if the backup went away meanwhile.
    @discardableResult
    public func sendSnapshot(_ snapshot: [UInt8], generation: UInt64) -> Bool {
        lock.withLock {
            let (sent, actions) = core.sendSnapshot(snapshot, generation: generation, now: monotonicNow())
            // Sent under the lock, as entries are (see `append`), so that no entry overtakes it.
            table.resolve(actions, held: core.lineIDs).perform(doorbell: doorbell, log: log)
            return sent
        }
    }

    /// Sends part of a disk copy to the joining backup; false if it went away.
    public func sendDiskMessages(_ messages: [ReplicationMessage]) -> Bool {
        lock.withLock {
            let (sent, actions) = core.sendDiskMessages(messages, now: monotonicNow())
            // Under the lock, as the snapshot is: the snapshot that ends the copy comes after.
            table.resolve(actions, held: core.lineIDs).perform(doorbell: doorbell, log: log)
            return sent
        }
    }

    /// Sends the planned handover to the backup (after every entry); false without a backup in step.
    public func sendHandover(instructionCount: UInt64) -> Bool {
        lock.withLock {
            let (sent, actions) = core.sendHandover(instructionCount: instructionCount, now: monotonicNow())
            // Under the lock, as entries are, so that it follows the last one on every line.
            table.resolve(actions, held: core.lineIDs).perform(doorbell: doorbell, log: log)
            return sent
        }
    }

    /// Refuses the joining backup, saying why.
    public func refuseJoin(reason: String) {
        drive { core, now in core.refuseJoin(reason: reason, now: now) }
    }

    /// After the primary won the arbiter without its backup: forget it, accept a new one.
    public func forgetBackup() {
        drive { core, _ in core.forgetBackup() }
    }

    /// Runs one event through the core under the lock (with the time, read once), then performs
    /// its actions after the lock: on the event loop, channel operations run at once and may
    /// call back into this object (a write that fails closes the channel, which reports it).
    /// `line` is a new connection the core is about to hear of.
    private func drive(adding line: Line? = nil, _ event: (inout PrimaryChannel, Double) -> [LinkAction]) {
        let effects = lock.withLock {
            if let line { table.add(line) }
            let actions = event(&core, monotonicNow())
            return table.resolve(actions, held: core.lineIDs)
        }
        effects.perform(doorbell: doorbell, log: log)
    }

    /// The primary's clock as heartbeats carry it.
    static func nanoseconds() -> UInt64 { PrimaryChannel.nanoseconds(monotonicNow()) }

    // MARK: LineOwner (event loop)

    func lineAuthenticated(_ line: Line) {
        guard let peer = line.peer else { return }
        drive(adding: line) { core, now in core.lineAuthenticated(line.id, peerNodeID: peer.nodeID, now: now) }
    }

    func line(_ line: Line, received message: ReplicationMessage) {
        // A resend (`resume`) is sent after the lock, but before any entry appended from now on:
        // those are written from the machine thread, so they queue behind this handler.
        drive { core, now in core.received(message, on: line.id, now: now) }
        if case .ack = message { onAcknowledged?() }
    }

    func lineReadComplete(_ line: Line) {}

    func lineClosed(_ line: Line) {
        drive { core, now in core.lineClosed(line.id, now: now) }
    }

    func lineRefused(_ line: Line, reason: String) {
        drive { core, now in core.refused(line.id, reason: reason, now: now) }
    }

    /// Every heartbeat interval: heartbeats out, silence in.
    private func tick() {
        drive { core, now in core.tick(now: now) }
    }
}
