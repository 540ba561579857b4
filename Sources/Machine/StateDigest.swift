/// A machine's state at one instruction count, digested part by part, so that two machines that
/// should be equal (a primary and its backup, a recording and its replay) can be compared and,
/// when they differ, the difference named: registers, CSRs, a device, which RAM pages, which disk.
///
/// ``Machine/stateDigest()`` takes one. The parts are 64-bit ``StateHasher`` digests (not
/// cryptographic: they detect accidents, not adversaries). RAM is split into at most
/// ``maximumRegions`` equal regions of whole pages, each digested on its own. Each disk's
/// contents are its ``DiskContentDigest``.
public struct StateDigest: Equatable, Sendable {
    /// One digested part of the state outside RAM.
    public struct Part: Equatable, Sendable {
        /// What it covers: "registers", "CSRs", "machine", "CLINT", "PLIC", "UART", "virtio slot 7 (block)".
        public var name: String
        public var hash: UInt64

        public init(name: String, hash: UInt64) {
            self.name = name
            self.hash = hash
        }
    }

    /// The instruction count the digest was taken at.
    public var instructionCount: UInt64
    /// The state outside RAM, part by part, always in the same order.
    public var parts: [Part]
    /// Bytes of RAM per region (a multiple of the page size; the last region may be shorter).
    public var regionSize: UInt64
    /// Where RAM starts (for naming addresses in reports).
    public var ramBase: UInt64
    /// One digest per RAM region, in address order.
    public var regions: [UInt64]
    /// Each disk's content digest (``DiskContentDigest``), in the machine's order (none for a
    /// machine without disks); nil when the digest does not cover the disks (a checkpoint read
    /// from an event log of format 4 or older), and then ``differences(from:)`` does not compare them.
    public var disks: [UInt64]?

    /// At most this many RAM regions: a digest stays small (2 KiB of RAM digests) whatever the RAM size.
    public static let maximumRegions = 256

    public init(instructionCount: UInt64, parts: [Part], regionSize: UInt64, ramBase: UInt64, regions: [UInt64], disks: [UInt64]?) {
        self.instructionCount = instructionCount
        self.parts = parts
        self.regionSize = regionSize
        self.ramBase = ramBase
        self.regions = regions
        self.disks = disks
    }

    /// What differs between `self` (expected) and `actual`; nil when they are equal. Disks are
    /// compared only when `self` covers them (``disks`` not nil); one that differs is named
    /// "disk 1 of 2" (its place in the machine's order, from 1).
    public func differences(from actual: StateDigest) -> StateDifference? {
        var compared = actual
        if disks == nil { compared.disks = nil }
        guard self != compared else { return nil }
        var difference = StateDifference(instructionCount: instructionCount, actualInstructionCount: actual.instructionCount)
        if parts.map(\.name) != actual.parts.map(\.name) {
            difference.parts.append("the list of devices (\(parts.map(\.name).joined(separator: ", ")) against \(actual.parts.map(\.name).joined(separator: ", ")))")
        } else {
            for (mine, theirs) in zip(parts, actual.parts) where mine.hash != theirs.hash { difference.parts.append(mine.name) }
        }
        if let disks, disks != compared.disks {
            if let theirs = compared.disks, theirs.count == disks.count {
                for index in disks.indices where disks[index] != theirs[index] {
                    difference.parts.append("disk \(index + 1) of \(disks.count)")
                }
            } else {
                func described(_ digests: [UInt64]?) -> String {
                    digests.map { "\($0.count) disk\($0.count == 1 ? "" : "s")" } ?? "no disk digests"
                }
                difference.parts.append("the list of disks (\(described(disks)) against \(described(compared.disks)))")
            }
        }
        if regionSize != actual.regionSize || regions.count != actual.regions.count {
            difference.parts.append("the RAM layout (\(regions.count) regions of \(regionSize) bytes against \(actual.regions.count) of \(actual.regionSize))")
        } else {
            for index in regions.indices where regions[index] != actual.regions[index] {
                let start = ramBase &+ UInt64(index) &* regionSize
                difference.ramRanges.append(start..<(start &+ regionSize))
            }
        }
        return difference
    }
}

/// How two state digests differ: the report a backup or a replay gives when it diverges.
public struct StateDifference: Equatable, Sendable, CustomStringConvertible {
    /// The count of the expected digest (and of the one taken here, if they are not the same).
    public var instructionCount: UInt64
    public var actualInstructionCount: UInt64
    /// Names of the parts outside RAM that differ ("registers", "CSRs", "UART", ..., "disk 2 of 2").
    public var parts: [String] = []
    /// Guest-physical address ranges of the RAM regions that differ.
    public var ramRanges: [Range<UInt64>] = []

    public init(instructionCount: UInt64, actualInstructionCount: UInt64, parts: [String] = [], ramRanges: [Range<UInt64>] = []) {
        self.instructionCount = instructionCount
        self.actualInstructionCount = actualInstructionCount
        self.parts = parts
        self.ramRanges = ramRanges
    }

    public var description: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        var items: [String] = []
        if instructionCount != actualInstructionCount {
            items.append("the instruction count (\(actualInstructionCount), expected \(instructionCount))")
        }
        items += parts
        if !ramRanges.isEmpty {
            let pages = ramRanges.reduce(UInt64(0)) { $0 + ($1.upperBound - $1.lowerBound) / 4096 }
            let shown = ramRanges.prefix(8).map { "\(hex($0.lowerBound))-\(hex($0.upperBound - 1))" }.joined(separator: ", ")
            items.append("RAM in \(ramRanges.count) region\(ramRanges.count == 1 ? "" : "s") (\(pages) pages: \(shown)\(ramRanges.count > 8 ? ", ..." : ""))")
        }
        return items.isEmpty ? "nothing" : items.joined(separator: "; ")
    }
}
