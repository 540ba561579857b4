/// When a replicated guest's disk flush completes (`--disk-sync`; docs/disks.md).
public enum DiskSyncMode: String, Sendable, CaseIterable {
    /// When the writes before it are durable on the primary's disk. The backup holds the log
    /// that reproduces them before anything that depends on the flush leaves (the output
    /// rule), and flushes its own copy when it executes the same flush.
    case primary
    /// When they are durable on both disks: the primary's guest waits, executing nothing,
    /// until the backup has executed the flush (DRBD's protocol C).
    case both
}
