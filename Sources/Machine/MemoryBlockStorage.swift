/// A disk held in host memory: deterministic, for tests and for machines whose disk image is part
/// of their configuration.
public final class MemoryBlockStorage: BlockStorage {
    /// The disk's contents (`sectorCount * 512` bytes).
    public private(set) var bytes: [UInt8]
    public let isReadOnly: Bool
    /// Number of ``flush()`` calls (useful to tests).
    public private(set) var flushCount = 0

    /// A zero-filled disk of `sectorCount` sectors.
    public init(sectorCount: UInt64, readOnly: Bool = false) {
        bytes = [UInt8](repeating: 0, count: Int(sectorCount) * 512)
        isReadOnly = readOnly
    }

    /// A disk holding `contents`, zero-padded to a whole number of sectors.
    public init(contents: [UInt8], readOnly: Bool = false) {
        bytes = contents
        let remainder = contents.count % 512
        if remainder != 0 { bytes += [UInt8](repeating: 0, count: 512 - remainder) }
        isReadOnly = readOnly
    }

    public var sectorCount: UInt64 { UInt64(bytes.count / 512) }

    public func readSectors(at sector: UInt64, count: Int) throws(BlockStorageError) -> [UInt8] {
        let range = try byteRange(sector, count)
        return Array(bytes[range])
    }

    public func writeSectors(at sector: UInt64, _ data: [UInt8]) throws(BlockStorageError) {
        guard !isReadOnly else { throw BlockStorageError("read-only disk") }
        guard data.count % 512 == 0 else { throw BlockStorageError("partial sector write") }
        let range = try byteRange(sector, data.count / 512)
        bytes.replaceSubrange(range, with: data)
    }

    public func flush() throws(BlockStorageError) { flushCount += 1 }

    private func byteRange(_ sector: UInt64, _ count: Int) throws(BlockStorageError) -> Range<Int> {
        guard count >= 0, sector <= sectorCount, UInt64(count) <= sectorCount - sector else {
            throw BlockStorageError("sectors \(sector)+\(count) beyond the end of the disk")
        }
        return Int(sector) * 512..<(Int(sector) + count) * 512
    }
}
