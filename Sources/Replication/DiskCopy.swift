import HostIO

/// The bookkeeping of a VM's disk copy to a joining backup while the guest runs (pre-copy): per
/// disk, the extents still to send, in rounds over the disks in order (each in disk order), with
/// what the guest writes meanwhile marked again; ending in a final pause once what is left is
/// small. Pure: the primary reads and sends what ``next(budget:)`` names (within the copy's rate,
/// ``CopyRate``), and reports the guest's writes.
public struct DiskCopy: Sendable {
    /// One extent of one disk.
    public struct Extent: Equatable, Sendable, CustomStringConvertible {
        /// The disk's place among the VM's disks (0: the first).
        public var disk: Int
        /// The extent's index on that disk.
        public var index: Int

        public init(disk: Int, index: Int) {
            self.disk = disk
            self.index = index
        }

        public var description: String { "\(disk):\(index)" }
    }

    /// Extent size in bytes, per disk.
    public let extentBytes: [Int]
    /// The copy may end (final pause) when at most this many extents are left, all disks
    /// together ...
    public let finalExtents: Int
    /// ... or after this many rounds, whatever is left (a guest that writes faster than the copy).
    public let maximumRounds: Int
    /// Per disk, the extents still to send.
    public private(set) var pending: [ExtentSet]
    /// Per disk, the extents the plan named.
    public let plannedExtents: [Int]
    public private(set) var sentExtents = 0
    public private(set) var sentBytes: UInt64 = 0
    /// Completed passes over the disks (the first pass is round 1).
    public private(set) var rounds = 1
    private var cursor = Extent(disk: 0, index: 0)

    /// A copy of the extents `plans` names, one set per disk (`extentBytes`: each disk's extent
    /// size).
    public init(plans: [ExtentSet], extentBytes: [Int], finalExtents: Int = 32, maximumRounds: Int = 30) {
        precondition(plans.count == extentBytes.count, "one extent size per disk")
        pending = plans
        plannedExtents = plans.map(\.count)
        self.extentBytes = extentBytes
        self.finalExtents = finalExtents
        self.maximumRounds = maximumRounds
    }

    /// A copy of one disk.
    public init(plan: ExtentSet, extentBytes: Int, finalExtents: Int = 32, maximumRounds: Int = 30) {
        self.init(plans: [plan], extentBytes: [extentBytes], finalExtents: finalExtents, maximumRounds: maximumRounds)
    }

    /// Extents still to send, all disks together.
    public var pendingCount: Int { pending.reduce(0) { $0 + $1.count } }

    /// The guest wrote these extents of `disk`: they go again (or for the first time).
    public mutating func noteWritten(disk: Int = 0, _ extents: ClosedRange<Int>) {
        guard pending.indices.contains(disk) else { return }
        for index in extents where index >= 0 && index < pending[disk].extentCount { pending[disk].insert(index) }
    }

    /// Whether the final pause may come now.
    public var mayFinish: Bool { pendingCount <= finalExtents || rounds > maximumRounds }

    /// The extents to send now, in order (disk by disk, each in disk order), as many as `budget`
    /// bytes allow (each costs its disk's extent size), each removed from the pending sets; the
    /// caller reports what it sent with ``sent(extents:bytes:)``.
    public mutating func next(budget: inout Double) -> [Extent] {
        var batch: [Extent] = []
        while true {
            // The next extent of this round, or else the first of the next round.
            let inRound = peek(from: cursor)
            guard let extent = inRound ?? peek(from: Extent(disk: 0, index: 0)),
                  budget >= Double(extentBytes[extent.disk]) else { break }
            if inRound == nil { rounds += 1 }
            pending[extent.disk].remove(extent.index)
            cursor = Extent(disk: extent.disk, index: extent.index + 1)
            batch.append(extent)
            budget -= Double(extentBytes[extent.disk])
        }
        return batch
    }

    /// Everything left, for the final pause (no rate: the guest is stopped).
    public mutating func rest() -> [Extent] {
        var all: [Extent] = []
        for disk in pending.indices {
            all += pending[disk].members.map { Extent(disk: disk, index: $0) }
            pending[disk] = ExtentSet(extentCount: pending[disk].extentCount)
        }
        return all
    }

    /// Counts what was sent.
    public mutating func sent(extents: Int, bytes: UInt64) {
        sentExtents += extents
        sentBytes += bytes
    }

    /// The first pending extent at or after `start` (disk by disk), if any.
    private func peek(from start: Extent) -> Extent? {
        var disk = start.disk, from = start.index
        while disk < pending.count {
            if let index = pending[disk].first(from: from) { return Extent(disk: disk, index: index) }
            disk += 1
            from = 0
        }
        return nil
    }
}
