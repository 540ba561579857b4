/// What a snapshot records about a disk instead of its contents: capacity, whether it is
/// read-only, and a 64-bit hash of every sector. A machine restoring the snapshot must have a disk
/// with the same identity, so that the guest finds the disk as it left it.
public struct DiskIdentity: Equatable, Sendable, CustomStringConvertible {
    public var sectorCount: UInt64
    public var isReadOnly: Bool
    /// ``StateHasher`` over all sectors in order.
    public var contentHash: UInt64

    /// Sectors read per storage call while hashing.
    static let chunkSectors: UInt64 = 256

    /// Reads the whole medium (a cost proportional to its size) and hashes it.
    public init(of storage: any BlockStorage) throws(SnapshotError) {
        sectorCount = storage.sectorCount
        isReadOnly = storage.isReadOnly
        var hasher = StateHasher()
        var sector: UInt64 = 0
        while sector < sectorCount {
            let count = min(DiskIdentity.chunkSectors, sectorCount - sector)
            let data: [UInt8]
            do { data = try storage.readSectors(at: sector, count: Int(count)) } catch {
                throw .diskUnreadable("sectors \(sector)..<\(sector + count): \(error.description)")
            }
            guard data.count == Int(count) * 512 else {
                throw .diskUnreadable("sectors \(sector)..<\(sector + count) gave \(data.count) bytes")
            }
            data.withUnsafeBytes { hasher.combine(bytes: $0) }
            sector += count
        }
        contentHash = hasher.finalize()
    }

    init(sectorCount: UInt64, isReadOnly: Bool, contentHash: UInt64) {
        self.sectorCount = sectorCount
        self.isReadOnly = isReadOnly
        self.contentHash = contentHash
    }

    public var description: String {
        "\(sectorCount) sectors\(isReadOnly ? ", read-only" : ""), content hash 0x\(String(contentHash, radix: 16))"
    }

    /// Writes an optional identity (a machine without a disk writes "absent").
    static func save(_ identity: DiskIdentity?, to writer: inout StateWriter) {
        writer.writeBool(identity != nil)
        writer.writeUInt64(identity?.sectorCount ?? 0)
        writer.writeBool(identity?.isReadOnly ?? false)
        writer.writeUInt64(identity?.contentHash ?? 0)
    }

    /// Reads what ``save(_:to:)`` wrote.
    static func read(from reader: inout StateReader) throws(SnapshotError) -> DiskIdentity? {
        let present = try reader.readBool("disk presence")
        let sectors = try reader.readUInt64("disk sector count")
        let readOnly = try reader.readBool("disk read-only flag")
        let hash = try reader.readUInt64("disk content hash")
        return present ? DiskIdentity(sectorCount: sectors, isReadOnly: readOnly, contentHash: hash) : nil
    }
}
