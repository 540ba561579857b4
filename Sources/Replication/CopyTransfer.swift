/// A piece of a live copy (memory pages, disk extents) as the backup's machine thread takes it
/// from the channel.
public enum CopyTransfer: Equatable, Sendable {
    /// The copy begins (or begins again, on a new join): see ``ReplicationMessage/diskPlan(generation:disks:)``.
    case plan(generation: UInt64, disks: [DiskCopyPlan])
    /// One extent's contents on disk `disk` (its place, from 0): raw, a zstd frame
    /// (`compressed`), or empty (all zeros).
    case extent(disk: UInt32, index: UInt64, compressed: Bool, bytes: [UInt8])
    /// RAM pages: 4096 bytes each in the order of `pages`, possibly as one zstd frame.
    case pages([UInt32], compressed: Bool, bytes: [UInt8])
}
