/// What a primary tells a joining backup about one disk before the copy begins (in
/// ``ReplicationMessage/diskPlan(generation:disks:)``, one per disk in `--disk` order): whose disk
/// it makes the backup's, whether it is overwritten whole, and how many extents are planned.
public struct DiskCopyPlan: Equatable, Sendable {
    /// The primary's disk's instance: the backup's disk adopts it once the copy is proven.
    public var instance: [UInt8]
    /// A full resync (every extent).
    public var full: Bool
    /// Extents planned (some may go more than once, when the guest writes them again).
    public var extents: UInt64

    public init(instance: [UInt8], full: Bool, extents: UInt64) {
        self.instance = instance
        self.full = full
        self.extents = extents
    }
}
