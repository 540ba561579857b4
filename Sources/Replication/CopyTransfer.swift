/// A piece of a live copy (memory pages, disk extents) as the backup's machine thread takes it
/// from the channel.
public enum CopyTransfer: Equatable, Sendable {
    /// The copy begins (or begins again, on a new join): see ``ReplicationMessage/diskPlan(instance:generation:full:extents:)``.
    case plan(instance: [UInt8], generation: UInt64, full: Bool, extents: UInt64)
    /// One extent's contents: raw, a zstd frame (`compressed`), or empty (all zeros).
    case extent(index: UInt64, compressed: Bool, bytes: [UInt8])
    /// RAM pages: 4096 bytes each in the order of `pages`, possibly as one zstd frame.
    case pages([UInt32], compressed: Bool, bytes: [UInt8])
}
