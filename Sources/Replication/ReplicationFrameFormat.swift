import Machine

/// Frames on the logging channel:
///
///     u32 length (of everything after it)  "LSRP"  u8 version  u8 kind  payload  u32 CRC-32
///
/// (little-endian; the CRC covers magic, version, kind and payload). A frame longer than
/// ``maximumFrameLength``, a wrong magic, version or checksum closes the connection: the peer
/// is a stranger, or the stream is damaged.
///
/// This file is the format on plain bytes, without SwiftNIO (fuzz/Replication fuzzes it on its
/// own); ReplicationFrameCodec.swift adapts it to NIO's `ByteBuffer` and channel pipeline.
public enum ReplicationFrameCodec {
    public static let magic: [UInt8] = Array("LSRP".utf8)
    /// The protocol version. Version 2 carries a VM's disks (several): `joinWithDisks`,
    /// `diskPlan` with a plan per disk, `diskExtent` with the disk's place. Version 3 carries
    /// checkpoints with their disk part (each disk's content digest: ``Checkpoint/encoded()``).
    public static let version: UInt8 = 3
    /// Large enough for a snapshot chunk (1 MiB) and its header.
    public static let maximumFrameLength = 2 << 20

    /// The bytes of one frame holding `message`.
    public static func frame(_ message: ReplicationMessage) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0, 0]
        if case .snapshotChunk(_, _, _, _, let chunk) = message { bytes.reserveCapacity(chunk.count + 64) }
        bytes += magic
        bytes.append(version)
        bytes.append(message.kind.rawValue)
        message.writePayload(to: &bytes)
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[4...])) }
        withUnsafeBytes(of: crc.littleEndian) { bytes.append(contentsOf: $0) }
        let length = UInt32(bytes.count - 4)
        for i in 0..<4 { bytes[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        return bytes
    }

    /// Decodes the frame at the start of `bytes`: nil if it is not complete yet, otherwise the
    /// message and the frame's size in bytes (length field included), which the caller consumes.
    /// Throws as soon as the bytes cannot start a frame (a bad length, a wrong magic, even before
    /// the frame is complete, so that a stranger is refused at once).
    public static func decodeFrame(_ bytes: UnsafeRawBufferPointer) throws(ReplicationError) -> (message: ReplicationMessage, size: Int)? {
        guard bytes.count >= 4 else { return nil }
        let length = UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self))
        guard length >= 10, length <= maximumFrameLength else {
            throw .malformedMessage("frame length \(length) outside 10...\(maximumFrameLength)")
        }
        // The magic is checked as soon as it arrives, so that a stranger is refused at once.
        let magicBytes = bytes[4..<min(8, bytes.count)]
        guard magicBytes.elementsEqual(magic.prefix(magicBytes.count)) else { throw .malformedMessage("no LSRP magic") }
        let size = 4 + Int(length)
        guard bytes.count >= size else { return nil }
        let expected = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: size - 4, as: UInt32.self))
        let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[4..<(size - 4)]))
        guard actual == expected else { throw .checksumMismatch }
        let version = bytes[8]
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let kind = bytes[9]
        let message = try ReplicationMessage.read(kind: kind, payload: UnsafeRawBufferPointer(rebasing: bytes[10..<(size - 4)]))
        return (message, size)
    }

    /// ``decodeFrame(_:)-(UnsafeRawBufferPointer)`` on an array.
    public static func decodeFrame(_ bytes: [UInt8]) throws(ReplicationError) -> (message: ReplicationMessage, size: Int)? {
        let result: Result<(message: ReplicationMessage, size: Int)?, ReplicationError> = bytes.withUnsafeBytes { raw in
            do throws(ReplicationError) { return .success(try decodeFrame(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
