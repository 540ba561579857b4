/// Appends machine state to a byte buffer, little-endian, for snapshots and state hashes.
///
/// The format carries no type tags: a reader must read the same fields in the same order
/// (``StateReader``). Counts and lengths are written explicitly where the reader needs them.
public struct StateWriter {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Bytes written so far.
    public var count: Int { bytes.count }

    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func writeUInt16(_ value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeUInt32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeUInt64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Raw bytes, without a length.
    public mutating func writeBytes(_ data: some Collection<UInt8>) {
        bytes.append(contentsOf: data)
    }

    /// Raw bytes from memory, without a length.
    public mutating func writeBytes(_ data: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: data)
    }

    /// A byte array preceded by its length (32 bits).
    public mutating func writeLengthPrefixed(_ data: some Collection<UInt8>) {
        writeUInt32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// A string as UTF-8 preceded by its length (32 bits).
    public mutating func writeString(_ string: String) {
        writeLengthPrefixed(Array(string.utf8))
    }

    /// Overwrites 4 bytes at `offset` (already written) with `value`.
    mutating func patchUInt32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    /// Overwrites 8 bytes at `offset` (already written) with `value`.
    mutating func patchUInt64(_ value: UInt64, at offset: Int) {
        for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
}
