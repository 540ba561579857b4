/// What a snapshot records about a disk instead of its contents: capacity, whether it is
/// read-only, and a 64-bit hash of every sector. A machine restoring the snapshot must have a disk
/// with the same identity, so that the guest finds the disk as it left it.
public struct DiskIdentity: Equatable, Sendable, CustomStringConvertible {
    public var sectorCount: UInt64
    public var isReadOnly: Bool
    /// The disk's ``DiskContentDigest``.
    public var contentHash: UInt64

    /// The identity of the disk behind `device`, from its content digest (a read of the whole
    /// medium the first time the device is asked, nothing after: see ``DiskContentDigest``).
    public init(of device: VirtioBlock) throws(SnapshotError) {
        sectorCount = device.storage.sectorCount
        isReadOnly = device.storage.isReadOnly
        do { contentHash = try device.contentDigest() } catch {
            throw .diskUnreadable(error.description)
        }
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
