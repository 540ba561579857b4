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

    /// Writes the `DISK` section's payload (format 4): the disk count, then each identity in
    /// the machine's disk order.
    static func save(_ identities: [DiskIdentity], to writer: inout StateWriter) {
        writer.writeUInt32(UInt32(identities.count))
        for identity in identities {
            writer.writeUInt64(identity.sectorCount)
            writer.writeBool(identity.isReadOnly)
            writer.writeUInt64(identity.contentHash)
        }
    }

    /// Reads what ``save(_:to:)`` wrote, or, from a snapshot of format `version` 3 (one disk at
    /// most), its presence flag and one identity.
    static func read(from reader: inout StateReader, version: UInt32) throws(SnapshotError) -> [DiskIdentity] {
        if version < 4 {
            let present = try reader.readBool("disk presence")
            let identity = try readOne(&reader)
            return present ? [identity] : []
        }
        let count = try reader.readCount(maximum: Machine.maximumDiskCount, "number of disks")
        var identities: [DiskIdentity] = []
        for _ in 0..<count { identities.append(try readOne(&reader)) }
        return identities
    }

    private static func readOne(_ reader: inout StateReader) throws(SnapshotError) -> DiskIdentity {
        let sectors = try reader.readUInt64("disk sector count")
        let readOnly = try reader.readBool("disk read-only flag")
        let hash = try reader.readUInt64("disk content hash")
        return DiskIdentity(sectorCount: sectors, isReadOnly: readOnly, contentHash: hash)
    }
}
