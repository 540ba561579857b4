import Foundation
import LockstepSupport
import NIOCore
import NIOPosix

/// A machine's console reachable over TCP, like QEMU's `-serial tcp::PORT,server,nowait`: a
/// listening socket that accepts any number of clients. What the clients send is merged into the
/// guest's console input in the order it arrives; what the guest prints goes to every connected
/// client (and nowhere when none is connected). A client should send each line with one write, so
/// that lines from two clients are not interleaved in the middle.
///
/// The one console server of lockstep: `lockstep run --console-port` polls it as its
/// ``ConsoleBackend``, and the live primary of `lockstep node` takes its input with ``takeInput()``
/// when its `onInput` hook (the node's doorbell) rings. The sockets are served on an event loop
/// (the caller's, or one of the console's own), so nothing here blocks the caller except
/// ``poll(timeout:)``, which waits at most its timeout, and ``close()``. A client that does not
/// read what the guest prints is dropped once ``maximumPendingBytes`` wait for it, so that it can
/// never stall the machine. Safe to use from any thread.
public final class TCPConsole: ConsoleBackend, Sendable {
    /// The address listened on, with the port the system picked for port 0.
    public let endpoint: Endpoint
    /// How many bytes may wait for one slow client before that client is dropped.
    public let maximumPendingBytes: Int

    private let state: State
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let server: any Channel

    /// The address listened on, as given (a numeric IPv4 or IPv6 address).
    public var host: String { endpoint.host }
    /// The port listened on: the one asked for, or the one the system picked for port 0.
    public var port: UInt16 { endpoint.port }
    /// `host:port`, with brackets around an IPv6 address.
    public var address: String { endpoint.description }

    /// How many clients are connected.
    public var clientCount: Int { state.clientCount }

    /// A TCP console is never closed for input: a new client can always connect.
    public var isClosed: Bool { false }

    /// Whether input is waiting.
    public var hasInput: Bool { state.hasInput }

    /// Listens on `host:port`: a numeric IPv4 or IPv6 address (0.0.0.0 or :: for every interface)
    /// and a port (0: any free port, see ``port``).
    ///
    /// - Parameters:
    ///   - group: the event loops to serve the sockets on; by default a thread of the console's own.
    ///   - onInput: called (on an event loop) whenever input arrives, to wake whoever waits for it.
    public init(host: String = "127.0.0.1", port: UInt16 = 0, maximumPendingBytes: Int = 1 << 20,
                group: (any EventLoopGroup)? = nil, onInput: (@Sendable () -> Void)? = nil) throws(TCPConsoleError) {
        let requested = Endpoint(host: host, port: port)
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(ipAddress: host, port: Int(port))
        } catch {
            throw .invalidAddress(host: host, reason: "not a numeric IPv4 or IPv6 address")
        }
        let limit = max(1, maximumPendingBytes)
        let state = State(onInput: onInput)
        let ownsGroup = group == nil
        let group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            // Like QEMU: a new process may listen again at once while old connections linger in
            // TIME_WAIT (two listeners on one port are still refused).
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 16)
            // Console lines are small: send each at once instead of waiting for more (Nagle).
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: min(1 << 16, limit / 2), high: limit))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientHandler(state: state))
                }
            }
        let server: any Channel
        do {
            server = try bootstrap.bind(to: socketAddress).wait()
        } catch {
            if ownsGroup { Self.shutDown(group) }
            throw Self.listenError(error, host: host, requested: requested.description)
        }
        self.endpoint = Endpoint(host: host, port: server.localAddress?.port.map { UInt16($0) } ?? port)
        self.maximumPendingBytes = limit
        self.state = state
        self.group = group
        self.ownsGroup = ownsGroup
        self.server = server
    }

    deinit { close() }

    /// Stops listening and disconnects every client. Later polls find nothing; writes go nowhere.
    /// Returns once the port is closed (unless called on the console's event loop).
    public func close() {
        guard let clients = state.close() else { return }
        for channel in clients { channel.close(promise: nil) }
        if server.eventLoop.inEventLoop || MultiThreadedEventLoopGroup.currentEventLoop != nil {
            server.close(promise: nil)
            if ownsGroup { group.shutdownGracefully { _ in } }
        } else {
            try? server.close().wait()
            if ownsGroup { Self.shutDown(group) }
        }
    }

    /// Closes the port and every client connection (``close()``).
    public func stopServing() { close() }

    /// Disconnects every connected client (they may connect again).
    public func disconnectClients() {
        for channel in state.removeAllClients() { channel.close(promise: nil) }
    }

    /// Console input received since the last call (or poll).
    public func takeInput() -> [UInt8] { state.takeInput(waitingUpTo: 0) }

    /// Waits up to `timeout` seconds (0: just look) for input and returns the bytes received from
    /// all clients.
    public func poll(timeout: Double) -> ConsolePoll {
        .bytes(state.takeInput(waitingUpTo: timeout))
    }

    public func wake() { state.wake() }

    /// Sends `bytes` to every connected client without waiting; a client with more than
    /// ``maximumPendingBytes`` waiting for it is dropped.
    public func write(_ bytes: [UInt8]) { prepareWrite(bytes)() }

    /// ``write(_:)`` in two steps: the buffer and the list of clients now, the writes when the
    /// result is called. Called on the event loop of the connections, the writes reach the
    /// sockets then (from another thread, SwiftNIO queues them for the loop).
    public func prepareWrite(_ bytes: [UInt8]) -> () -> Void {
        guard !bytes.isEmpty else { return {} }
        let buffer = ByteBuffer(bytes: bytes)
        let clients = state.connectedClients
        return { [state] in
            for channel in clients {
                if channel.isWritable {
                    channel.writeAndFlush(buffer, promise: nil)
                } else {
                    state.removed(channel)
                    channel.close(promise: nil)
                }
            }
        }
    }

    private static func shutDown(_ group: any EventLoopGroup) {
        try? group.syncShutdownGracefully()
    }

    private static func listenError(_ error: any Error, host: String, requested: String) -> TCPConsoleError {
        guard let error = error as? IOError else { return .systemCall("bind", address: requested, reason: "\(error)") }
        switch error.errnoCode {
        case EADDRINUSE: return .portInUse(address: requested)
        case EACCES: return .permissionDenied(address: requested)
        case EADDRNOTAVAIL: return .invalidAddress(host: host, reason: "no interface of this host has that address")
        default: return .systemCall("bind", address: requested, reason: String(cString: strerror(error.errnoCode)))
        }
    }

    /// What the event loop and the console's users share: the clients and the input received.
    private final class State: @unchecked Sendable {
        private let condition = NSCondition()
        private var clients: [ObjectIdentifier: any Channel] = [:]   // guarded by condition
        private var input: [UInt8] = []                               // guarded by condition
        private var closed = false                                    // guarded by condition
        private var woken = false                                     // guarded by condition
        private let onInput: (@Sendable () -> Void)?

        init(onInput: (@Sendable () -> Void)?) { self.onInput = onInput }

        private func locked<T>(_ body: () -> T) -> T {
            condition.lock()
            defer { condition.unlock() }
            return body()
        }

        var clientCount: Int { locked { clients.count } }
        var hasInput: Bool { locked { !input.isEmpty } }
        var connectedClients: [any Channel] { locked { Array(clients.values) } }

        /// Marks the console closed; the clients to disconnect, or nil if it was closed already.
        func close() -> [any Channel]? {
            let all: [any Channel]? = locked {
                guard !closed else { return nil }
                closed = true
                input = []
                defer { clients = [:] }
                return Array(clients.values)
            }
            condition.broadcast()
            return all
        }

        func removeAllClients() -> [any Channel] {
            locked {
                defer { clients = [:] }
                return Array(clients.values)
            }
        }

        func takeInput(waitingUpTo timeout: Double) -> [UInt8] {
            condition.lock()
            defer { condition.unlock() }
            if input.isEmpty && timeout > 0 {
                let deadline = Date(timeIntervalSinceNow: min(timeout, 1e6))
                while input.isEmpty && !woken && condition.wait(until: deadline) {}
            }
            woken = false
            defer { input = [] }
            return input
        }

        func added(_ channel: any Channel) {
            let refused = locked {
                guard !closed else { return true }
                clients[ObjectIdentifier(channel)] = channel
                return false
            }
            if refused { channel.close(promise: nil) }
        }

        func removed(_ channel: any Channel) {
            locked { _ = clients.removeValue(forKey: ObjectIdentifier(channel)) }
        }

        func wake() {
            locked { woken = true }
            condition.broadcast()
        }

        func received(_ bytes: [UInt8]) {
            let accepted = locked {
                guard !closed else { return false }
                input += bytes
                condition.broadcast()
                return true
            }
            if accepted { onInput?() }
        }
    }

    private final class ClientHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let state: State
        init(state: State) { self.state = state }

        func channelActive(context: ChannelHandlerContext) { state.added(context.channel) }
        func channelInactive(context: ChannelHandlerContext) { state.removed(context.channel) }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty { state.received(bytes) }
        }
        /// More than the limit waits for this client: it does not read, drop it.
        func channelWritabilityChanged(context: ChannelHandlerContext) {
            guard !context.channel.isWritable else { return }
            state.removed(context.channel)
            context.close(promise: nil)
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
