import LockstepSupport
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The client of an ``ArbiterServer``: each call opens one connection, makes one authenticated
/// exchange (docs/arbitration.md, "Wire protocol") and closes it.
///
/// Connecting and waiting for the answer each have `timeout`; a dead or partitioned arbiter gives
/// ``ArbitrationError/timeout(address:seconds:)`` or ``ArbitrationError/unreachable(address:reason:)``
/// instead of a hang, and after either the claim's outcome is unknown (see ``Arbiter``).
public struct RemoteArbiter: Arbiter {
    /// The arbiter server.
    public let address: Endpoint
    /// The limit on connecting, and then on waiting for the answer.
    public let timeout: Duration
    private let key: SharedKey

    /// A client of the arbiter server at `host`:`port` that shares `key` with it.
    public init(host: String, port: UInt16, key: SharedKey, timeout: Duration = .seconds(2)) {
        self.address = Endpoint(host: host, port: port)
        self.key = key
        self.timeout = timeout
    }

    public func claim(vm: String, expectedGeneration: UInt64, owner: String) async throws(ArbitrationError) -> ArbitrationOutcome {
        try ClaimTable.validate(vm: vm, expectedGeneration: expectedGeneration, owner: owner)
        switch try await exchange({ .claim(clientNonce: $0, vm: vm, expectedGeneration: expectedGeneration, owner: owner) }) {
        case .won(let generation) where generation == expectedGeneration + 1:
            return .won(generation: generation)
        case .lost(let generation, let owner) where generation != expectedGeneration:
            return .lost(generation: generation, owner: owner)
        case .failed(let reason):
            throw .arbiterFailed(address: address.description, reason: reason)
        case let answer:
            throw .malformedResponse(address: address.description, detail: "\(answer) is no answer to a claim of generation \(expectedGeneration)")
        }
    }

    public func current(vm: String) async throws(ArbitrationError) -> (generation: UInt64, owner: String) {
        try ClaimTable.validate(vm: vm)
        switch try await exchange({ .current(clientNonce: $0, vm: vm) }) {
        case .state(let generation, let owner):
            return (generation, owner)
        case let answer:
            throw .malformedResponse(address: address.description, detail: "\(answer) is no answer to a question")
        }
    }

    /// Connects, reads the hello, sends `request` (given a fresh client nonce) and returns the
    /// authenticated answer.
    private func exchange(_ request: @escaping @Sendable ([UInt8]) -> WireMessage) async throws(ArbitrationError) -> WireMessage {
        let channel = try await connect()
        let deadline = channel.channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [channel] in
            channel.channel.close(promise: nil)
        }
        let clientNonce = WireMessage.randomNonce(length: WireMessage.clientNonceLength)
        let result: Result<WireMessage, ArbitrationError>
        do {
            result = try await channel.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                guard let hello = try await frames.next() else { return .failure(closedEarly("before its hello")) }
                let nonce: [UInt8]
                switch decode(hello, context: []) {
                case .success(.hello(let serverNonce)): nonce = serverNonce
                case .success(let other): return .failure(malformed("\(other) instead of a hello"))
                case .failure(let error): return .failure(error)
                }
                let requestBytes = request(clientNonce).encoded(key: key, context: nonce)
                try await outbound.write(Framing.frame(requestBytes))
                guard let answer = try await frames.next() else { return .failure(closedEarly("before answering")) }
                return decode(answer, context: nonce + requestBytes)
            }
        } catch {
            result = .failure(.unreachable(address: address.description, reason: "the connection failed: \(error)"))
        }
        deadline.cancel()
        if case .failure = result, (try? await deadline.futureResult.get()) != nil {
            throw .timeout(address: address.description, seconds: seconds(timeout))
        }
        return try result.get()
    }

    /// A connection with the framing decoder in place.
    private func connect() async throws(ArbitrationError) -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .connect(host: address.host, port: Int(address.port)) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(Framing.Decoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch ChannelError.connectTimeout {
            throw .timeout(address: address.description, seconds: seconds(timeout))
        } catch let error as NIOConnectionError {
            let reason = error.connectionErrors.first.map { Self.describe($0.error) }
                ?? error.dnsAError.map { "cannot resolve \(address.host): \($0)" } ?? "\(error)"
            throw .unreachable(address: address.description, reason: reason)
        } catch {
            throw .unreachable(address: address.description, reason: Self.describe(error))
        }
    }

    /// A system call's error as its errno text ("Connection refused"), anything else as it describes itself.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }

    /// The message in a frame from the server, or what its failure means for the caller.
    private func decode(_ frame: ByteBuffer, context: [UInt8]) -> Result<WireMessage, ArbitrationError> {
        let message: WireMessage
        do {
            message = try WireMessage.decode(Array(frame.readableBytesView), key: key, context: context)
        } catch {
            switch error {
            case .notArbiterProtocol: return .failure(malformed("no LSAR magic: not a lockstep arbiter"))
            case .version(let theirs):
                return .failure(.protocolMismatch(address: address.description, ours: WireMessage.version, theirs: theirs))
            case .badAuthentication: return .failure(.authenticationFailed(address: address.description))
            case .malformed(let detail): return .failure(malformed(detail))
            }
        }
        switch message {
        case .refused(.badKey):
            return .failure(.authenticationFailed(address: address.description))
        case .refused(.unsupportedVersion):
            return .failure(.protocolMismatch(address: address.description, ours: WireMessage.version, theirs: 0))
        case .refused(.malformed):
            return .failure(malformed("the arbiter found our request malformed"))
        default:
            return .success(message)
        }
    }

    private func malformed(_ detail: String) -> ArbitrationError {
        .malformedResponse(address: address.description, detail: detail)
    }

    private func closedEarly(_ when: String) -> ArbitrationError {
        .unreachable(address: address.description, reason: "the arbiter closed the connection \(when)")
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
