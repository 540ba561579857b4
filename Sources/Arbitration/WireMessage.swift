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
///
/// This file holds the format on plain bytes, without SwiftNIO or Crypto (fuzz/Arbiter fuzzes it
/// with a stand-in MAC); WireMessage+Authentication.swift adds the HMAC-SHA256 under the key.
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

    /// The message's bytes; authenticated kinds end with `sign(bytes)`, the MAC of the bytes
    /// before it (``encoded(key:context:)`` signs with the HMAC).
    func encoded(signedBy sign: ([UInt8]) -> [UInt8]) -> [UInt8] {
        var bytes = Self.magic
        bytes.append(Self.version)
        bytes.append(kind.rawValue)
        switch self {
        case .hello(let nonce):
            bytes += nonce
        case .claim(let clientNonce, let vm, let expectedGeneration, let owner):
            bytes += clientNonce
            Self.write(expectedGeneration, to: &bytes)
            Self.write(vm, to: &bytes)
            Self.write(owner, to: &bytes)
        case .current(let clientNonce, let vm):
            bytes += clientNonce
            Self.write(vm, to: &bytes)
        case .won(let generation):
            Self.write(generation, to: &bytes)
        case .lost(let generation, let owner), .state(let generation, let owner):
            Self.write(generation, to: &bytes)
            Self.write(owner, to: &bytes)
        case .failed(let reason):
            Self.write(String(decoding: reason.utf8.prefix(512), as: UTF8.self), to: &bytes)
        case .refused(let refusal):
            bytes.append(refusal.rawValue)
        }
        return kind.isAuthenticated ? bytes + sign(bytes) : bytes
    }

    /// The message in `bytes`. If its kind carries a MAC, `verify(signed, mac)` must accept the
    /// MAC (the last ``macLength`` bytes) of the bytes before it (``decode(_:key:context:)``
    /// checks the HMAC). The header is checked first, then the MAC, and only then the body.
    static func decode(_ bytes: [UInt8], verify: (_ signed: [UInt8], _ mac: [UInt8]) -> Bool) throws(DecodingError) -> WireMessage {
        var reader = Reader(bytes: bytes)
        guard reader.read(magic.count) == magic else { throw .notArbiterProtocol }
        guard let version = reader.read(1)?.first else { throw .malformed("no version") }
        guard version == Self.version else { throw .version(version) }
        guard let kindByte = reader.read(1)?.first, let kind = Kind(rawValue: kindByte) else {
            throw .malformed("unknown message kind")
        }
        if kind.isAuthenticated {
            guard reader.remaining >= macLength else { throw .malformed("too short for its MAC") }
            guard verify(Array(bytes[..<(bytes.count - macLength)]), Array(bytes.suffix(macLength))) else {
                throw .badAuthentication
            }
            reader.end -= macLength
        }
        let message = try decodeBody(kind, from: &reader)
        guard reader.remaining == 0 else { throw .malformed("\(reader.remaining) bytes after the message") }
        return message
    }

    /// Reads from the front of `bytes`, up to `end`.
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var end: Int

        init(bytes: [UInt8]) {
            self.bytes = bytes
            end = bytes.count
        }

        var remaining: Int { end - offset }

        mutating func read(_ count: Int) -> [UInt8]? {
            guard count <= remaining else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }

        /// A big-endian integer.
        mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
            read(MemoryLayout<T>.size).map { $0.reduce(0) { $0 << 8 | T($1) } }
        }
    }

    private static func decodeBody(_ kind: Kind, from buffer: inout Reader) throws(DecodingError) -> WireMessage {
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
            guard let byte = buffer.read(UInt8.self), let refusal = Refusal(rawValue: byte) else {
                throw .malformed("unknown refusal")
            }
            return .refused(refusal)
        }
    }

    private static func write<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private static func write(_ string: String, to bytes: inout [UInt8]) {
        write(UInt16(string.utf8.count), to: &bytes)
        bytes += string.utf8
    }

    private static func read(_ count: Int, from buffer: inout Reader) throws(DecodingError) -> [UInt8] {
        guard let bytes = buffer.read(count) else { throw .malformed("truncated") }
        return bytes
    }

    private static func readGeneration(from buffer: inout Reader) throws(DecodingError) -> UInt64 {
        guard let generation = buffer.read(UInt64.self) else { throw .malformed("truncated") }
        return generation
    }

    private static func readString(from buffer: inout Reader) throws(DecodingError) -> String {
        guard let length = buffer.read(UInt16.self) else { throw .malformed("truncated") }
        guard let string = String(validating: try read(Int(length), from: &buffer), as: UTF8.self) else {
            throw .malformed("a string that is not UTF-8")
        }
        return string
    }
}
