import HostIO

/// The primary's decision on all of a joining backup's disks (docs/disks.md): the VM's disks are
/// matched by their place (the order of `--disk` on each node), each decided by ``ResyncPlan``;
/// the backup is refused if it has another number of disks, or if any one disk is refused. Pure.
public enum ResyncDecision: Equatable, Sendable {
    /// What to copy to one disk.
    public struct Disk: Equatable, Sendable {
        /// The extents to copy (every one for a full resync).
        public var extents: ExtentSet
        /// A full resync: the backup's disk is overwritten whole.
        public var full: Bool

        public init(extents: ExtentSet, full: Bool) {
            self.extents = extents
            self.full = full
        }
    }

    /// Copy, per disk in order, these extents.
    case copy([Disk])
    /// Refuse the backup, with what the operator should do.
    case refuse(String)

    /// Decides for every disk: `primary` holds the records of the primary's disks, `backup` the
    /// backup's reports, both in `--disk` order.
    public static func decide(primary: [DiskRecord], backup: [DiskReport]) -> ResyncDecision {
        guard primary.count == backup.count else {
            return .refuse("the primary's VM has \(count(primary.count)), this backup \(count(backup.count)): start the backup with --disk given \(primary.count) time\(primary.count == 1 ? "" : "s"), each this node's own copy of the primary's disk at that place, in the primary's order")
        }
        var disks: [Disk] = []
        for (index, (record, report)) in zip(primary, backup).enumerated() {
            switch ResyncPlan.decide(primary: record, backup: report) {
            case .copy(let extents, let full):
                disks.append(Disk(extents: extents, full: full))
            case .refuse(let reason):
                guard primary.count > 1 else { return .refuse(reason) }
                return .refuse("disk \(index + 1) of \(primary.count) (the \(ordinal(index)) --disk): \(reason)")
            }
        }
        return .copy(disks)
    }

    /// "no disk", "1 disk", "3 disks".
    static func count(_ n: Int) -> String { n == 0 ? "no disk" : n == 1 ? "1 disk" : "\(n) disks" }

    /// "first", "second", ... for a disk's place (from 0).
    static func ordinal(_ index: Int) -> String {
        let words = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
        return index < words.count ? words[index] : "\(index + 1)th"
    }
}
