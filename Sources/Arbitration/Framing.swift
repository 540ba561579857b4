/// The arbiter protocol's framing: each message is a UInt32 big-endian length, then that many
/// bytes. Frames are small; a longer one means the peer is not an arbiter client or server.
///
/// This file is the framing on plain bytes (fuzz/Arbiter fuzzes it); Framing+NIO.swift adapts it
/// to SwiftNIO.
enum Framing {
    /// The longest message (a claim with two 255-byte names is under 600 bytes).
    static let maximumLength = 1024

    /// A frame length outside 1...``maximumLength``.
    struct BadLength: Error, CustomStringConvertible {
        let length: UInt32
        var description: String { "a frame of \(length) bytes (at most \(Framing.maximumLength))" }
    }

    /// `message` with its length prefix.
    static func frameBytes(_ message: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(message.count).bigEndian, Array.init) + message
    }

    /// Where the first message of a byte stream lies: nil if its frame is not complete yet,
    /// otherwise the range of the message (without the length prefix); the frame ends there.
    /// Throws ``BadLength`` as soon as the length is known to be bad.
    static func firstMessage(in bytes: UnsafeRawBufferPointer) throws(BadLength) -> Range<Int>? {
        guard bytes.count >= 4 else { return nil }
        let length = UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self))
        guard length > 0, length <= Framing.maximumLength else { throw BadLength(length: length) }
        guard bytes.count >= 4 + Int(length) else { return nil }
        return 4..<(4 + Int(length))
    }
}
