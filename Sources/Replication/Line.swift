import NIOConcurrencyHelpers
import NIOCore

/// One connection between the two nodes of a VM (there are two "lines", on independent
/// addresses): authenticated, framed, carrying the log, acknowledgements and heartbeats.
public final class Line: @unchecked Sendable {
    /// Which line (0 or 1): the index of the address pair it runs on.
    public let index: Int
    /// Which connection this is, for the channel cores (``PrimaryChannel``, ``BackupChannel``).
    public let id: LineID
    let channel: Channel
    /// The peer's hello, once authenticated (set on the channel's event loop before the owner hears of the line).
    public internal(set) var peer: Hello?

    init(index: Int, channel: Channel) {
        self.index = index
        self.channel = channel
        id = LineID(index: index, connection: Self.connections.withLockedValue { $0 += 1; return $0 })
    }

    /// Connections numbered so far in this process.
    private static let connections = NIOLockedValueBox<UInt64>(0)

    /// Sends a message (from any thread; NIO keeps the order of calls).
    func send(_ message: ReplicationMessage) {
        channel.writeAndFlush(message, promise: nil)
    }

    /// Sends a batch of messages with one flush, in the order of the calls (from any thread).
    ///
    /// From another thread (the machine thread appending log entries), the messages join a
    /// queue that one task on the event loop writes and flushes; while that task is pending,
    /// later batches join it without another task. Each `write` and `flush` from another thread
    /// is a task of its own for the event loop, and a system call to wake it: four per entry
    /// with two lines, paid by the machine thread.
    func send(_ messages: [ReplicationMessage]) {
        guard !messages.isEmpty else { return }
        if channel.eventLoop.inEventLoop {
            let queued = outgoing.withLockedValue { state in
                defer { state.messages = [] }
                return state.messages
            }
            for message in queued + messages { channel.write(message, promise: nil) }
            channel.flush()
            return
        }
        let schedule = outgoing.withLockedValue { state in
            state.messages += messages
            guard !state.writeScheduled else { return false }
            state.writeScheduled = true
            return true
        }
        guard schedule else { return }
        channel.eventLoop.execute { [self] in
            let queued = outgoing.withLockedValue { state in
                defer { state = ([], false) }
                return state.messages
            }
            guard !queued.isEmpty else { return }
            for message in queued { channel.write(message, promise: nil) }
            channel.flush()
        }
    }

    /// Messages sent from other threads that the event loop has not written yet, and whether a
    /// task to write them is pending.
    private let outgoing = NIOLockedValueBox<(messages: [ReplicationMessage], writeScheduled: Bool)>(([], false))

    func close() {
        channel.close(promise: nil)
    }

    /// Says why, then closes.
    func refuse(_ reason: String) {
        channel.writeAndFlush(ReplicationMessage.refuse(reason)).whenComplete { _ in self.channel.close(promise: nil) }
    }
}

/// What a line reports to whoever owns it (``PrimaryLink`` or ``BackupLink``). Called on the
/// line's event loop.
protocol LineOwner: AnyObject, Sendable {
    func lineAuthenticated(_ line: Line)
    func line(_ line: Line, received message: ReplicationMessage)
    func lineReadComplete(_ line: Line)
    func lineClosed(_ line: Line)
    func lineRefused(_ line: Line, reason: String)
}

/// The per-connection handler: hello and proof both ways, then hands messages to the owner.
final class LineHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ReplicationMessage

    enum State {
        case awaitingHello
        case awaitingProof(Hello)
        case authenticated
        case closed
    }

    let index: Int
    let authentication: PeerAuthentication
    weak var owner: (any LineOwner)?
    let log: NodeLog
    let handshakeTimeout: TimeAmount
    private var state = State.awaitingHello
    private var line: Line?
    private var peerAddress = "a peer"

    init(index: Int, authentication: PeerAuthentication, owner: any LineOwner, log: NodeLog, handshakeTimeout: TimeAmount) {
        self.handshakeTimeout = handshakeTimeout
        self.index = index
        self.authentication = authentication
        self.owner = owner
        self.log = log
    }

    func channelActive(context: ChannelHandlerContext) {
        peerAddress = context.remoteAddress.map { "\($0)" } ?? "a peer"
        line = Line(index: index, channel: context.channel)
        context.writeAndFlush(wrapOutboundOut(.hello(authentication.hello)), promise: nil)
        // A peer that never completes the handshake (a silent network, a stranger that says
        // nothing) does not hold the connection open.
        let channel = context.channel
        context.eventLoop.scheduleTask(in: handshakeTimeout) { [weak self] in
            guard let self else { return }
            if case .authenticated = self.state { return }
            if case .closed = self.state { return }
            self.log("no handshake from \(self.peerAddress) on line \(self.index + 1) within \(self.handshakeTimeout.nanoseconds / 1_000_000) ms: closing")
            self.state = .closed
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    typealias OutboundOut = ReplicationMessage

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        guard let line else { return }
        if case .refuse(let reason) = message {
            state = .closed
            owner?.lineRefused(line, reason: reason)
            context.close(promise: nil)
            return
        }
        switch state {
        case .awaitingHello:
            guard case .hello(let hello) = message else { return stranger(context, "spoke before saying hello") }
            guard hello.vm == authentication.vm else {
                let ours = ReplicationError.wrongVM(peer: "node '\(hello.nodeID)' at \(peerAddress)", peerVM: hello.vm, ourVM: authentication.vm).description
                state = .closed
                line.refuse(ReplicationError.wrongVM(peer: "node '\(authentication.nodeID)'", peerVM: authentication.vm, ourVM: hello.vm).description)
                owner?.lineRefused(line, reason: ours)
                return
            }
            context.writeAndFlush(wrapOutboundOut(.proof(authentication.proof(answering: hello))), promise: nil)
            state = .awaitingProof(hello)
        case .awaitingProof(let hello):
            guard case .proof(let proof) = message else { return stranger(context, "did not prove it holds the key") }
            guard authentication.verify(proof, from: hello) else {
                state = .closed
                line.refuse("authentication failed: the two nodes of VM '\(authentication.vm)' hold different keys (check --key-file on both hosts)")
                owner?.lineRefused(line, reason: ReplicationError.authenticationFailed(peer: "node '\(hello.nodeID)' at \(peerAddress)").description)
                return
            }
            state = .authenticated
            line.peer = hello
            owner?.lineAuthenticated(line)
        case .authenticated:
            owner?.line(line, received: message)
        case .closed:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .authenticated = state, let line { owner?.lineReadComplete(line) }
    }

    private func stranger(_ context: ChannelHandlerContext, _ what: String) {
        log("refused \(peerAddress) on line \(index + 1): it \(what) (a stranger, or another program)")
        state = .closed
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if case .closed = state {} else {
            log("closing line \(index + 1) to \(peerAddress): \(error)")
        }
        state = .closed
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let line, case .authenticated = state { owner?.lineClosed(line) }
        if let line, case .closed = state, line.peer != nil { owner?.lineClosed(line) }
        state = .closed
        context.fireChannelInactive()
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Framing plus the line handler.
    func addLineHandlers(index: Int, authentication: PeerAuthentication, owner: any LineOwner, log: NodeLog,
                         handshakeTimeout: TimeAmount) throws {
        try addHandler(ByteToMessageHandler(ReplicationFrameHandler()))
        try addHandler(MessageToByteHandler(ReplicationFrameHandler()))
        try addHandler(LineHandler(index: index, authentication: authentication, owner: owner, log: log, handshakeTimeout: handshakeTimeout))
    }
}
