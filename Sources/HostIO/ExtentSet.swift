/// A set of a disk's extents (fixed-size runs of sectors) as a bitmap: which extents were written
/// in a generation, which a resync must copy. DRBD's quick-sync bitmap, coarser.
public struct ExtentSet: Equatable, Sendable {
    /// How many extents the disk has (bits beyond it are always clear).
    public let extentCount: Int
    private(set) var words: [UInt64]

    /// The empty set over `extentCount` extents.
    public init(extentCount: Int) {
        self.extentCount = extentCount
        words = [UInt64](repeating: 0, count: (extentCount + 63) / 64)
    }

    /// Every extent.
    public static func all(_ extentCount: Int) -> ExtentSet {
        var set = ExtentSet(extentCount: extentCount)
        for index in 0..<extentCount { set.insert(index) }
        return set
    }

    /// Rebuilds a set from ``bytes``; nil if the length does not fit `extentCount` or a bit past
    /// the end is set.
    public init?(extentCount: Int, bytes: [UInt8]) {
        guard extentCount >= 0, bytes.count == ((extentCount + 63) / 64) * 8 else { return nil }
        self.extentCount = extentCount
        words = stride(from: 0, to: bytes.count, by: 8).map { offset -> UInt64 in
            var word: UInt64 = 0
            for index in 0..<8 { word |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
            return word
        }
        if extentCount % 64 != 0, let last = words.last, last >> UInt64(extentCount % 64) != 0 { return nil }
    }

    /// The bitmap, little-endian 64-bit words.
    public var bytes: [UInt8] {
        words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } }
    }

    public func contains(_ index: Int) -> Bool {
        guard index >= 0, index < extentCount else { return false }
        return words[index / 64] & (1 << UInt64(index % 64)) != 0
    }

    /// Adds `index`; true if it was not there.
    @discardableResult public mutating func insert(_ index: Int) -> Bool {
        precondition(index >= 0 && index < extentCount, "extent \(index) outside 0..<\(extentCount)")
        let bit: UInt64 = 1 << UInt64(index % 64)
        if words[index / 64] & bit != 0 { return false }
        words[index / 64] |= bit
        return true
    }

    public mutating func remove(_ index: Int) {
        guard index >= 0, index < extentCount else { return }
        words[index / 64] &= ~(1 << UInt64(index % 64))
    }

    /// Adds every extent of `other` (same extent count).
    public mutating func formUnion(_ other: ExtentSet) {
        precondition(other.extentCount == extentCount, "extent sets of different disks")
        for i in words.indices { words[i] |= other.words[i] }
    }

    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The smallest member at or after `index`, if any.
    public func first(from index: Int) -> Int? {
        var i = max(index, 0)
        while i < extentCount {
            let word = words[i / 64] >> UInt64(i % 64)
            if word != 0 { return i + word.trailingZeroBitCount }
            i = (i / 64 + 1) * 64
        }
        return nil
    }

    /// The members in order.
    public var members: [Int] {
        var result: [Int] = []
        var next = first(from: 0)
        while let index = next {
            result.append(index)
            next = first(from: index + 1)
        }
        return result
    }
}
