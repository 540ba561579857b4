import NIOCore

/// The arbiter protocol's framing (Framing.swift) in SwiftNIO.
extension Framing {
    /// `message` with its length prefix, ready to write.
    static func frame(_ message: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(4 + message.count)
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
        return buffer
    }

    /// Splits the byte stream into messages (without their length prefix); throws ``BadLength``,
    /// which closes the connection.
    struct Decoder: ByteToMessageDecoder {
        typealias InboundOut = ByteBuffer

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            let found: Result<Range<Int>?, BadLength> = buffer.withUnsafeReadableBytes { raw in
                do throws(BadLength) { return .success(try Framing.firstMessage(in: raw)) } catch { return .failure(error) }
            }
            guard let message = try found.get() else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: message.lowerBound)
            context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: message.count)!))
            return .continue
        }

        mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
            try decode(context: context, buffer: &buffer)
        }
    }
}
