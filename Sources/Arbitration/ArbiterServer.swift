import LockstepSupport
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built-in arbiter: a small TCP server that holds every VM's generation and owner, and
/// answers ``RemoteArbiter``'s claims. Run it on a third host (`lockstep arbiter --listen`), so
/// that it survives the loss of either node.
///
/// Its state lives in a state file (``StateFileFormat``), loaded at start and replaced atomically
/// (temporary file, fsync, rename, directory fsync) before a winning claim is answered. Requests
/// from all connections are handled one at a time. Each connection carries one request,
/// authenticated with the cluster's ``SharedKey`` (see `docs/arbitration.md`); clients with
/// another key, strangers, malformed or oversized frames and silent clients are logged and
/// disconnected.
public final class ArbiterServer: Sendable {
    /// Where the server listens, with the port the system chose if it was started on port 0.
    public let address: Endpoint
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let store: ArbiterStore

    private init(address: Endpoint, group: MultiThreadedEventLoopGroup, channel: any Channel, store: ArbiterStore) {
        self.address = address
        self.group = group
        self.channel = channel
        self.store = store
    }

    /// Loads the state file at `statePath` (a missing one is a fresh start; a damaged one an
    /// error) and starts listening on `address` (port 0 picks a free port; see ``address``).
    ///
    /// - Parameters:
    ///   - clientTimeout: how long a connection may stay without a request before it is closed.
    ///   - log: receives one line per refused client and per change of a VM's owner.
    public static func start(
        listeningOn address: Endpoint,
        statePath: String,
        key: SharedKey,
        clientTimeout: Duration = .seconds(10),
        log: @escaping @Sendable (String) -> Void = ArbiterServer.logToStandardError
    ) async throws(ArbitrationError) -> ArbiterServer {
        let store = try ArbiterStore(path: statePath, log: log)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(Framing.Decoder()))
                        try channel.pipeline.syncOperations.addHandler(
                            ArbiterConnectionHandler(store: store, key: key, clientTimeout: TimeAmount(clientTimeout), log: log))
                    }
                }
                .bind(host: address.host, port: Int(address.port)).get()
        } catch {
            store.close()
            try? await group.shutdownGracefully()
            throw .listenFailed(address: address.description, reason: "\(error)")
        }
        let bound = Endpoint(host: address.host, port: channel.localAddress?.port.map { UInt16($0) } ?? address.port)
        return ArbiterServer(address: bound, group: group, channel: channel, store: store)
    }

    /// Stops listening, closes every connection and releases the state file.
    public func stop() async {
        try? await channel.close().get()
        try? await group.shutdownGracefully()
        store.close()
    }

    /// Returns when the server has stopped.
    public func waitUntilStopped() async {
        try? await channel.closeFuture.get()
    }

    /// The default log: each line to standard error.
    public static let logToStandardError: @Sendable (String) -> Void = { line in
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
