import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The live node's console on a TCP port (like QEMU's `-serial tcp::PORT,server,nowait`): bytes
/// from any client become console input; console output goes to every client. Served on the
/// event loop so that input wakes the machine thread through the doorbell at once. Only the
/// live primary opens its console port: a client that cannot connect knows it is talking to a
/// backup (or a dead host) and tries the other host.
public final class ConsolePort: @unchecked Sendable {
    let doorbell: Doorbell
    let group: EventLoopGroup
    private let lock = NIOLock()
    private var clients: [ObjectIdentifier: Channel] = [:]
    private var input: [UInt8] = []
    private var server: Channel?
    /// Output bytes a slow client may have queued before it is dropped.
    static let clientBacklogLimit = 1 << 20

    public init(doorbell: Doorbell, group: EventLoopGroup) {
        self.doorbell = doorbell
        self.group = group
    }

    /// Opens the port; returns the bound port (0 picks one).
    public func open(host: String, port: Int) throws(ReplicationError) -> Int {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 1 << 16, high: ConsolePort.clientBacklogLimit))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientHandler(port: self))
                }
            }
        do {
            let channel = try bootstrap.bind(host: host, port: port).wait()
            lock.withLock { server = channel }
            return channel.localAddress?.port ?? port
        } catch {
            throw .cannotListen(address: "\(host):\(port)", reason: "\(error)")
        }
    }

    public func close() {
        let all: [Channel] = lock.withLock {
            let all = (server.map { [$0] } ?? []) + clients.values
            server = nil
            clients = [:]
            return all
        }
        for channel in all { channel.close(promise: nil) }
    }

    /// Console input received since the last call.
    public func takeInput() -> [UInt8] {
        lock.withLock {
            defer { input = [] }
            return input
        }
    }

    /// Whether input is waiting.
    public var hasInput: Bool { lock.withLock { !input.isEmpty } }

    /// Sends console output to every client; a client that does not read is dropped.
    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let targets = lock.withLock { Array(clients.values) }
        for channel in targets {
            if channel.isWritable {
                channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
            } else {
                channel.close(promise: nil)
            }
        }
    }

    fileprivate func added(_ channel: Channel) { lock.withLock { clients[ObjectIdentifier(channel)] = channel } }
    fileprivate func removed(_ channel: Channel) { lock.withLock { _ = clients.removeValue(forKey: ObjectIdentifier(channel)) } }
    fileprivate func received(_ bytes: [UInt8]) {
        lock.withLock { input += bytes }
        doorbell.ring()
    }

    final class ClientHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let port: ConsolePort
        init(port: ConsolePort) { self.port = port }

        func channelActive(context: ChannelHandlerContext) { port.added(context.channel) }
        func channelInactive(context: ChannelHandlerContext) { port.removed(context.channel) }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if let bytes = buffer.readBytes(length: buffer.readableBytes) { port.received(bytes) }
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }
}
