import LockstepSupport
import NIOCore

/// The arbiter server's side of one connection: sends the hello with a fresh nonce, reads one
/// authenticated request, answers it from the ``ArbiterStore`` and closes. Anything else (a wrong
/// key, another protocol, a malformed or oversized frame, silence beyond the client timeout) is
/// logged as a refusal and the connection closed; the server goes on serving.
final class ArbiterConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let store: ArbiterStore
    private let key: SharedKey
    private let clientTimeout: TimeAmount
    private let log: @Sendable (String) -> Void
    private var nonce: [UInt8] = []
    private var hasRequest = false
    private var timeout: Scheduled<Void>?

    init(store: ArbiterStore, key: SharedKey, clientTimeout: TimeAmount, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.key = key
        self.clientTimeout = clientTimeout
        self.log = log
    }

    func channelActive(context: ChannelHandlerContext) {
        nonce = WireMessage.randomNonce(length: WireMessage.serverNonceLength)
        send(.hello(nonce: nonce), context: context, thenClose: false)
        let channel = context.channel
        let log = log, peer = Self.describe(context.remoteAddress), seconds = Double(clientTimeout.nanoseconds) / 1e9
        timeout = context.eventLoop.scheduleTask(in: clientTimeout) {
            log("lockstep arbiter: refused a client from \(peer): no request within \(seconds) s")
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !hasRequest else { return }   // one request per connection; the answer is on its way
        hasRequest = true
        timeout?.cancel()
        let bytes = Array(unwrapInboundIn(data).readableBytesView)
        let request: WireMessage
        do {
            request = try WireMessage.decode(bytes, key: key, context: nonce)
        } catch {
            refuse(error, context: context)
            return
        }
        let answer: WireMessage
        switch request {
        case .claim(_, let vm, let expectedGeneration, let owner):
            do throws(ArbitrationError) {
                try ClaimTable.validate(vm: vm, expectedGeneration: expectedGeneration, owner: owner)
                switch try store.claim(vm: vm, expectedGeneration: expectedGeneration, owner: owner) {
                case .won(let generation): answer = .won(generation: generation)
                case .lost(let generation, let owner): answer = .lost(generation: generation, owner: owner)
                }
            } catch {
                log("lockstep arbiter: a claim of VM \"\(vm)\" failed: \(error)")
                answer = .failed(reason: error.description)
            }
        case .current(_, let vm):
            let (generation, owner) = store.current(vm: vm)
            answer = .state(generation: generation, owner: owner)
        default:
            refuse(.malformed("a \(request) is not a request"), context: context)
            return
        }
        send(answer, context: context, thenClose: true, requestBytes: bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let reason = error is Framing.BadLength ? "not a lockstep arbiter client (\(error))" : "\(error)"
        log("lockstep arbiter: refused a client from \(Self.describe(context.remoteAddress)): \(reason)")
        context.close(promise: nil)
    }

    /// Logs why the request was not accepted, tells the client when it speaks this protocol (so
    /// that it can report the reason), and closes.
    private func refuse(_ error: WireMessage.DecodingError, context: ChannelHandlerContext) {
        let peer = Self.describe(context.remoteAddress)
        let reason: String
        let refusal: WireMessage.Refusal?
        switch error {
        case .badAuthentication:
            (reason, refusal) = ("bad key", .badKey)
        case .version(let version):
            (reason, refusal) = ("protocol version \(version), this arbiter speaks \(WireMessage.version)", .unsupportedVersion)
        case .notArbiterProtocol:
            (reason, refusal) = ("not a lockstep arbiter client", nil)
        case .malformed(let detail):
            (reason, refusal) = ("malformed request (\(detail))", .malformed)
        }
        log("lockstep arbiter: refused a client from \(peer): \(reason)")
        if let refusal {
            send(.refused(refusal), context: context, thenClose: true)
        } else {
            context.close(promise: nil)
        }
    }

    private func send(_ message: WireMessage, context: ChannelHandlerContext, thenClose: Bool, requestBytes: [UInt8] = []) {
        let bytes = message.encoded(key: key, context: nonce + requestBytes)
        let written = context.writeAndFlush(wrapOutboundOut(Framing.frame(bytes)))
        if thenClose {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// "ip:port" of a peer, for the log.
    static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "an unknown address" }
        return Endpoint(host: ip, port: UInt16(port)).description
    }
}
