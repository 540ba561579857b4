import NIOCore

/// The arbiter protocol's framing: each message is a UInt32 big-endian length, then that many
/// bytes. Frames are small; a longer one means the peer is not an arbiter client or server.
enum Framing {
    /// The longest message (a claim with two 255-byte names is under 600 bytes).
    static let maximumLength = 1024

    /// `message` with its length prefix, ready to write.
    static func frame(_ message: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(4 + message.count)
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
        return buffer
    }

    /// A frame length outside 1...``maximumLength``.
    struct BadLength: Error, CustomStringConvertible {
        let length: UInt32
        var description: String { "a frame of \(length) bytes (at most \(Framing.maximumLength))" }
    }

    /// Splits the byte stream into messages (without their length prefix); throws ``BadLength``,
    /// which closes the connection.
    struct Decoder: ByteToMessageDecoder {
        typealias InboundOut = ByteBuffer

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
            guard length > 0, length <= Framing.maximumLength else { throw BadLength(length: length) }
            guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: 4)
            context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
            return .continue
        }

        mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
            try decode(context: context, buffer: &buffer)
        }
    }
}
