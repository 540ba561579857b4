import Crypto
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials   // DataProtocol, which Crypto's HMAC takes
#else
import Foundation
#endif

/// One message of the arbiter protocol (docs/arbitration.md, "Wire protocol"), and its bytes.
///
/// A connection carries exactly one exchange: the server sends ``hello(nonce:)``, the client one
/// request (``claim(clientNonce:vm:expectedGeneration:owner:)`` or ``current(clientNonce:vm:)``),
/// the server one answer, then it closes. Every message starts with the magic "LSAR", the protocol
/// version and a kind byte; integers are big-endian, strings a UInt16 length and UTF-8. Requests
/// and answers end with an HMAC-SHA256 under the shared key: a request's over (the server's nonce,
/// the request), an answer's over (the server's nonce, the whole request, the answer). So a
/// request cannot be replayed on another connection, and an answer cannot be replayed to another
/// request, nor forged without the key.
enum WireMessage: Equatable, Sendable {
    /// Server to client, first, unauthenticated: the nonce that this connection's MACs cover.
    case hello(nonce: [UInt8])
    /// Client to server: the compare-and-set. `clientNonce` makes each request unique.
    case claim(clientNonce: [UInt8], vm: String, expectedGeneration: UInt64, owner: String)
    /// Client to server: read a VM's value.
    case current(clientNonce: [UInt8], vm: String)
    /// Answer to a claim that won.
    case won(generation: UInt64)
    /// Answer to a claim that lost: the current value.
    case lost(generation: UInt64, owner: String)
    /// Answer to ``current(clientNonce:vm:)``.
    case state(generation: UInt64, owner: String)
    /// Answer when the arbiter could not store a winning claim; nothing changed.
    case failed(reason: String)
    /// Server to client, unauthenticated, before closing: the request was not accepted.
    case refused(Refusal)

    /// Why the server refused a request.
    enum Refusal: UInt8, Sendable {
        case badKey = 1
        case unsupportedVersion = 2
        case malformed = 3
    }

    /// Why bytes are not a message.
    enum DecodingError: Error, Equatable {
        /// No "LSAR" magic: the peer does not speak this protocol at all.
        case notArbiterProtocol
        /// The peer speaks another protocol version.
        case version(UInt8)
        /// The MAC does not match: another key, or tampered bytes.
        case badAuthentication
        case malformed(String)
    }

    static let magic: [UInt8] = Array("LSAR".utf8)
    static let version: UInt8 = 1
    static let serverNonceLength = 32
    static let clientNonceLength = 16
    static let macLength = 32

    /// `length` bytes from the system's cryptographically secure generator (getrandom on Linux).
    static func randomNonce(length: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    private enum Kind: UInt8 {
        case hello = 0x01, claim = 0x02, current = 0x03
        case won = 0x11, lost = 0x12, state = 0x13, failed = 0x14
        case refused = 0x7F

        /// Whether messages of this kind end with a MAC.
        var isAuthenticated: Bool { self != .hello && self != .refused }
    }

    private var kind: Kind {
        switch self {
        case .hello: .hello
        case .claim: .claim
        case .current: .current
        case .won: .won
        case .lost: .lost
        case .state: .state
        case .failed: .failed
        case .refused: .refused
        }
    }

    /// The message's bytes; authenticated kinds end with the HMAC under `key` over `context`
    /// followed by the message.
    func encoded(key: SharedKey, context: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(kind.rawValue)
        switch self {
        case .hello(let nonce):
            buffer.writeBytes(nonce)
        case .claim(let clientNonce, let vm, let expectedGeneration, let owner):
            buffer.writeBytes(clientNonce)
            buffer.writeInteger(expectedGeneration)
            Self.write(vm, to: &buffer)
            Self.write(owner, to: &buffer)
        case .current(let clientNonce, let vm):
            buffer.writeBytes(clientNonce)
            Self.write(vm, to: &buffer)
        case .won(let generation):
            buffer.writeInteger(generation)
        case .lost(let generation, let owner), .state(let generation, let owner):
            buffer.writeInteger(generation)
            Self.write(owner, to: &buffer)
        case .failed(let reason):
            Self.write(String(decoding: reason.utf8.prefix(512), as: UTF8.self), to: &buffer)
        case .refused(let refusal):
            buffer.writeInteger(refusal.rawValue)
        }
        let bytes = Array(buffer.readableBytesView)
        return kind.isAuthenticated ? bytes + Self.authenticationCode(for: bytes, key: key, context: context) : bytes
    }

    /// The message in `bytes`, whose MAC (if its kind has one) must be valid under `key` over
    /// `context`. The header is checked first, then the MAC, and only then the body.
    static func decode(_ bytes: [UInt8], key: SharedKey, context: [UInt8]) throws(DecodingError) -> WireMessage {
        var buffer = ByteBuffer(bytes: bytes)
        guard buffer.readBytes(length: magic.count) == magic else { throw .notArbiterProtocol }
        guard let version = buffer.readInteger(as: UInt8.self) else { throw .malformed("no version") }
        guard version == Self.version else { throw .version(version) }
        guard let kindByte = buffer.readInteger(as: UInt8.self), let kind = Kind(rawValue: kindByte) else {
            throw .malformed("unknown message kind")
        }
        if kind.isAuthenticated {
            guard buffer.readableBytes >= macLength else { throw .malformed("too short for its MAC") }
            let signed = Array(bytes[..<(bytes.count - macLength)])
            guard HMAC<SHA256>.isValidAuthenticationCode(Array(bytes.suffix(macLength)), authenticating: context + signed,
                                                          using: key.symmetricKey) else {
                throw .badAuthentication
            }
            buffer.moveWriterIndex(to: buffer.writerIndex - macLength)
        }
        let message = try decodeBody(kind, from: &buffer)
        guard buffer.readableBytes == 0 else { throw .malformed("\(buffer.readableBytes) bytes after the message") }
        return message
    }

    private static func decodeBody(_ kind: Kind, from buffer: inout ByteBuffer) throws(DecodingError) -> WireMessage {
        switch kind {
        case .hello:
            return .hello(nonce: try read(serverNonceLength, from: &buffer))
        case .claim:
            let clientNonce = try read(clientNonceLength, from: &buffer)
            let expectedGeneration = try readGeneration(from: &buffer)
            return .claim(clientNonce: clientNonce, vm: try readString(from: &buffer), expectedGeneration: expectedGeneration,
                          owner: try readString(from: &buffer))
        case .current:
            return .current(clientNonce: try read(clientNonceLength, from: &buffer), vm: try readString(from: &buffer))
        case .won:
            return .won(generation: try readGeneration(from: &buffer))
        case .lost:
            return .lost(generation: try readGeneration(from: &buffer), owner: try readString(from: &buffer))
        case .state:
            return .state(generation: try readGeneration(from: &buffer), owner: try readString(from: &buffer))
        case .failed:
            return .failed(reason: try readString(from: &buffer))
        case .refused:
            guard let byte = buffer.readInteger(as: UInt8.self), let refusal = Refusal(rawValue: byte) else {
                throw .malformed("unknown refusal")
            }
            return .refused(refusal)
        }
    }

    private static func authenticationCode(for bytes: [UInt8], key: SharedKey, context: [UInt8]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key.symmetricKey)
        hmac.update(data: context)
        hmac.update(data: bytes)
        return Array(hmac.finalize())
    }

    private static func write(_ string: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(string.utf8.count))
        buffer.writeString(string)
    }

    private static func read(_ count: Int, from buffer: inout ByteBuffer) throws(DecodingError) -> [UInt8] {
        guard let bytes = buffer.readBytes(length: count) else { throw .malformed("truncated") }
        return bytes
    }

    private static func readGeneration(from buffer: inout ByteBuffer) throws(DecodingError) -> UInt64 {
        guard let generation = buffer.readInteger(as: UInt64.self) else { throw .malformed("truncated") }
        return generation
    }

    private static func readString(from buffer: inout ByteBuffer) throws(DecodingError) -> String {
        guard let length = buffer.readInteger(as: UInt16.self) else { throw .malformed("truncated") }
        guard let string = String(validating: try read(Int(length), from: &buffer), as: UTF8.self) else {
            throw .malformed("a string that is not UTF-8")
        }
        return string
    }
}
