import HostIO

/// The primary's decision on a joining backup's disk (docs/disks.md): which extents to copy, or
/// why the disk is refused. Pure: the record of the primary's disk and the backup's report in,
/// the plan out.
///
/// A backup's copy stopped at some point of generation `g` (its record's): it differs from the
/// primary's only in extents written after that point, which are among those the backup's disk
/// wrote in `g` (a primary that died may have written what its backup never executed) and those
/// the primary's disk wrote from `g` on (``DiskRecord/writes(since:)``). Anything the records
/// cannot vouch for is refused, unless the operator asked for a full copy.
public enum ResyncPlan: Equatable, Sendable {
    /// Copy these extents (every one for a full resync).
    case copy(ExtentSet, full: Bool)
    /// Refuse the backup, with what the operator should do.
    case refuse(String)

    public static func decide(primary: DiskRecord, backup report: DiskReport) -> ResyncPlan {
        guard report.sectorCount == primary.sectorCount else {
            return .refuse("the backup's disk has \(report.sectorCount) sectors, the primary's \(primary.sectorCount): give the backup an image of the same size")
        }
        let all = ExtentSet.all(primary.extentCount)
        if report.wantsFull { return .copy(all, full: true) }
        let fullAsk = "; to overwrite the backup's disk with the primary's, restart the backup with --resync full"
        guard !report.instance.isEmpty else {
            if report.state == .fullResync { return .copy(all, full: true) }   // a full resync into a fresh image was interrupted
            return .refuse("the backup's disk has no record: it cannot be proven equal to the primary's" + fullAsk)
        }
        guard report.instance == primary.instance else {
            return .refuse("the backup's disk belongs to another instance of VM '\(primary.vm)' (a disk from before the VM was started anew, or a copy of another VM's)" + fullAsk)
        }
        if report.state == .fullResync { return .copy(all, full: true) }
        guard report.generation <= primary.generation else {
            return .refuse("the backup's disk is newer (generation \(report.generation)) than the primary's (generation \(primary.generation)): it may hold writes the primary lacks; find out why (two primaries?) before resyncing it" + fullAsk)
        }
        guard report.historyTrusted else {
            return .refuse("the backup's host went down while its disk was in use, so its record of written extents may be incomplete" + fullAsk)
        }
        guard report.extentSectors == primary.extentSectors,
              var copy = ExtentSet(extentCount: primary.extentCount, bytes: report.written) else {
            return .refuse("the backup's record does not match the primary's layout" + fullAsk)
        }
        guard let since = primary.writes(since: report.generation) else {
            return .refuse("the primary's record does not reach back to generation \(report.generation) (it keeps \(DiskRecord.historyLimit) generations, or its own host went down while it ran)" + fullAsk)
        }
        copy.formUnion(since)
        return .copy(copy, full: false)
    }
}
