import NIOCore

/// The logging channel's frames (ReplicationFrameFormat.swift) on SwiftNIO's `ByteBuffer`.
extension ReplicationFrameCodec {
    /// The bytes of one frame holding `message`.
    public static func encode(_ message: ReplicationMessage, into buffer: inout ByteBuffer) {
        buffer.writeBytes(frame(message))
    }

    /// The size of `message`'s frame in bytes.
    public static func frameSize(_ message: ReplicationMessage) -> Int {
        frame(message).count
    }

    /// Takes one whole frame off the front of `buffer` and decodes it; nil if the frame is not
    /// complete yet (nothing is consumed then).
    public static func decode(_ buffer: inout ByteBuffer) throws(ReplicationError) -> ReplicationMessage? {
        let result: Result<(message: ReplicationMessage, size: Int)?, ReplicationError> = buffer.withUnsafeReadableBytes { raw in
            do throws(ReplicationError) { return .success(try decodeFrame(raw)) } catch { return .failure(error) }
        }
        guard let (message, size) = try result.get() else { return nil }
        buffer.moveReaderIndex(forwardBy: size)
        return message
    }
}

/// SwiftNIO handler: bytes to ``ReplicationMessage``s and back.
final class ReplicationFrameHandler: ByteToMessageDecoder, MessageToByteEncoder {
    typealias InboundOut = ReplicationMessage
    typealias OutboundIn = ReplicationMessage

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try ReplicationFrameCodec.decode(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    func encode(data: ReplicationMessage, out: inout ByteBuffer) throws {
        ReplicationFrameCodec.encode(data, into: &out)
    }
}
