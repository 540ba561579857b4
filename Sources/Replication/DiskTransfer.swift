/// A piece of a disk copy as the backup's machine thread takes it from the channel.
public enum DiskTransfer: Equatable, Sendable {
    /// The copy begins (or begins again, on a new join): see ``ReplicationMessage/diskPlan(instance:generation:full:extents:)``.
    case plan(instance: [UInt8], generation: UInt64, full: Bool, extents: UInt64)
    /// One extent's contents: raw, a zstd frame (`compressed`), or empty (all zeros).
    case extent(index: UInt64, compressed: Bool, bytes: [UInt8])
}
