/// The medium behind a ``VirtioBlock`` device: a fixed number of 512-byte sectors.
///
/// Implementations in the `Machine` module must be deterministic (``MemoryBlockStorage``); a
/// file-backed disk lives in `HostIO` (`FileDisk`), where the owner takes responsibility for the
/// file not changing under the machine.
public protocol BlockStorage: AnyObject {
    /// Capacity in 512-byte sectors.
    var sectorCount: UInt64 { get }
    /// Whether writes are refused (offered to the driver as VIRTIO_BLK_F_RO).
    var isReadOnly: Bool { get }
    /// Reads `count` sectors starting at `sector`; returns `count * 512` bytes. The device only
    /// asks for ranges inside the capacity.
    func readSectors(at sector: UInt64, count: Int) throws(BlockStorageError) -> [UInt8]
    /// Writes whole sectors (`data.count` is a multiple of 512) starting at `sector`. The device
    /// only writes ranges inside the capacity, and never to a read-only medium.
    func writeSectors(at sector: UInt64, _ data: [UInt8]) throws(BlockStorageError)
    /// Makes completed writes durable.
    func flush() throws(BlockStorageError)
}

extension BlockStorage {
    /// Capacity in bytes.
    public var byteCount: UInt64 { sectorCount * 512 }
}

/// A storage failure; the device reports it to the driver as VIRTIO_BLK_S_IOERR.
public struct BlockStorageError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
