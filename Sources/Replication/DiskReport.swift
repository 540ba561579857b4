import HostIO

/// What a joining backup says about its disk, so that the primary can decide what to copy
/// (``ResyncPlan``): whose disk it is, its generation, the extents it wrote in that generation,
/// and whether the operator asked for a full resync.
public struct DiskReport: Equatable, Sendable {
    /// The record's instance (empty: the image has no record).
    public var instance: [UInt8]
    public var generation: UInt64
    public var sectorCount: UInt64
    public var extentSectors: UInt64
    public var state: DiskRecord.State
    public var historyTrusted: Bool
    /// The extents the backup's disk wrote in `generation` (bitmap bytes of ``ExtentSet``).
    public var written: [UInt8]
    /// `--resync full`: the backup's disk may be overwritten whole.
    public var wantsFull: Bool

    public init(instance: [UInt8], generation: UInt64, sectorCount: UInt64, extentSectors: UInt64, state: DiskRecord.State,
                historyTrusted: Bool, written: [UInt8], wantsFull: Bool) {
        self.instance = instance
        self.generation = generation
        self.sectorCount = sectorCount
        self.extentSectors = extentSectors
        self.state = state
        self.historyTrusted = historyTrusted
        self.written = written
        self.wantsFull = wantsFull
    }
}
