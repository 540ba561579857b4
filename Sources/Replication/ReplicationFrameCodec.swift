import Machine
import NIOCore

/// Frames on the logging channel:
///
///     u32 length (of everything after it)  "LSRP"  u8 version  u8 kind  payload  u32 CRC-32
///
/// (little-endian; the CRC covers magic, version, kind and payload). A frame longer than
/// ``maximumFrameLength``, a wrong magic, version or checksum closes the connection: the peer
/// is a stranger, or the stream is damaged.
public enum ReplicationFrameCodec {
    public static let magic: [UInt8] = Array("LSRP".utf8)
    public static let version: UInt8 = 1
    /// Large enough for a snapshot chunk (1 MiB) and its header.
    public static let maximumFrameLength = 2 << 20

    /// The bytes of one frame holding `message`.
    public static func encode(_ message: ReplicationMessage, into buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0), endianness: .little)
        let bodyStart = buffer.writerIndex
        buffer.writeBytes(magic)
        buffer.writeInteger(version)
        buffer.writeInteger(message.kind.rawValue)
        message.writePayload(to: &buffer)
        let crc = buffer.withUnsafeReadableBytes { all in
            CRC32.checksum(UnsafeRawBufferPointer(rebasing: all[(bodyStart - buffer.readerIndex)...]))
        }
        buffer.writeInteger(crc, endianness: .little)
        buffer.setInteger(UInt32(buffer.writerIndex - bodyStart), at: lengthIndex, endianness: .little)
    }

    /// The size of `message`'s frame in bytes.
    public static func frameSize(_ message: ReplicationMessage) -> Int {
        var buffer = ByteBuffer()
        encode(message, into: &buffer)
        return buffer.readableBytes
    }

    /// Takes one whole frame off the front of `buffer` and decodes it; nil if the frame is not
    /// complete yet (nothing is consumed then).
    public static func decode(_ buffer: inout ByteBuffer) throws(ReplicationError) -> ReplicationMessage? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self) else { return nil }
        guard length >= 10, length <= maximumFrameLength else {
            throw .malformedMessage("frame length \(length) outside 10...\(maximumFrameLength)")
        }
        // The magic is checked as soon as it arrives, so that a stranger is refused at once.
        if let magicBytes = buffer.getBytes(at: buffer.readerIndex + 4, length: min(4, buffer.readableBytes - 4)),
           magicBytes != Array(magic.prefix(magicBytes.count)) {
            throw .malformedMessage("no LSRP magic")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        var body = buffer.readSlice(length: Int(length))!
        let expected = body.getInteger(at: body.readerIndex + Int(length) - 4, endianness: .little, as: UInt32.self)!
        let actual = body.withUnsafeReadableBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[..<(Int(length) - 4)])) }
        guard actual == expected else { throw .checksumMismatch }
        body.moveReaderIndex(forwardBy: 4)   // magic, checked above
        let version: UInt8 = body.readInteger()!
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let kind: UInt8 = body.readInteger()!
        var payload = body.readSlice(length: body.readableBytes - 4)!
        return try ReplicationMessage.read(kind: kind, payload: &payload)
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
