import HostIO

/// The bookkeeping of a disk copy to a joining backup while the guest runs (pre-copy): the
/// extents still to send, in rounds over the disk, with what the guest writes meanwhile marked
/// again; ending in a final pause once what is left is small. Pure: the primary reads and sends
/// what ``next(budget:)`` names (within the copy's rate, ``CopyRate``), and reports the guest's
/// writes.
public struct DiskCopy: Sendable {
    /// Extent size in bytes.
    public let extentBytes: Int
    /// The copy may end (final pause) when at most this many extents are left ...
    public let finalExtents: Int
    /// ... or after this many rounds, whatever is left (a guest that writes faster than the copy).
    public let maximumRounds: Int
    public private(set) var pending: ExtentSet
    public let plannedExtents: Int
    public private(set) var sentExtents = 0
    public private(set) var sentBytes: UInt64 = 0
    /// Completed passes over the disk (the first pass is round 1).
    public private(set) var rounds = 1
    private var cursor = 0

    public init(plan: ExtentSet, extentBytes: Int, finalExtents: Int = 32, maximumRounds: Int = 30) {
        pending = plan
        plannedExtents = plan.count
        self.extentBytes = extentBytes
        self.finalExtents = finalExtents
        self.maximumRounds = maximumRounds
    }

    /// The guest wrote these extents: they go again (or for the first time).
    public mutating func noteWritten(_ extents: ClosedRange<Int>) {
        for index in extents where index < pending.extentCount { pending.insert(index) }
    }

    /// Whether the final pause may come now.
    public var mayFinish: Bool { pending.count <= finalExtents || rounds > maximumRounds }

    /// The extents to send now, in disk order, as many as `budget` bytes allow (each costs an
    /// extent's size), each removed from the pending set; the caller reports what it sent with
    /// ``sent(extents:bytes:)``.
    public mutating func next(budget: inout Double) -> [Int] {
        var batch: [Int] = []
        while budget >= Double(extentBytes) {
            guard let index = pending.first(from: cursor) ?? wrap() else { break }
            pending.remove(index)
            cursor = index + 1
            batch.append(index)
            budget -= Double(extentBytes)
        }
        return batch
    }

    /// Everything left, for the final pause (no rate: the guest is stopped).
    public mutating func rest() -> [Int] {
        let all = pending.members
        pending = ExtentSet(extentCount: pending.extentCount)
        return all
    }

    /// Counts what was sent.
    public mutating func sent(extents: Int, bytes: UInt64) {
        sentExtents += extents
        sentBytes += bytes
    }

    /// Starts a new round at the beginning of the disk, if anything is pending.
    private mutating func wrap() -> Int? {
        guard let first = pending.first(from: 0) else { return nil }
        cursor = 0
        rounds += 1
        return first
    }
}
