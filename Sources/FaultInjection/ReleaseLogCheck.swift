import Foundation

/// Reads the nodes' release log (see `lockstep node --release-log`: "DECIDED_NS DONE_NS
/// GENERATION NODE BYTES" per output written) and finds moments when two primaries released
/// output.
///
/// What the log can prove: DECIDED is the clock reading with which the node's lease allowed the
/// write, taken on the writing thread right before it, so the write came after it; DONE is read
/// after the write returned, so the write came before it.
///
/// - A **violation** is a write by an older generation *decided* after a newer generation had
///   decided its first one: the old primary's lease let it write when another node may already
///   have been live. A lease that works never allows that: it runs out half a heartbeat timeout
///   before the backup may declare the primary dead. Also one generation released from two nodes.
/// - A write decided before the newer generation's first one but *done* after it is not a
///   violation: its node was stopped (or not scheduled) between the two readings, which are
///   microseconds apart otherwise. A stop takes effect as a system call returns, so nearly always
///   the write had left before it; rarely the stop came first and the write left after the thaw.
///   The times cannot tell which. These are ``stalledWrites(in:)``: reported, not failed on
///   (docs/replication.md, "The primary's lease").
public enum ReleaseLogCheck {
    public struct Release: Equatable {
        /// The clock reading that decided the write, and the one after it returned (ns).
        public var decided: UInt64
        public var done: UInt64
        public var generation: UInt64
        public var node: String
        public var bytes: Int
    }

    /// Parses the log; a line in the older four-column form ("NS GENERATION NODE BYTES") counts
    /// as decided and done at that time.
    public static func parse(_ text: String) -> [Release] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            switch parts.count {
            case 5:
                guard let decided = UInt64(parts[0]), let done = UInt64(parts[1]), let generation = UInt64(parts[2]),
                      let bytes = Int(parts[4]) else { return nil }
                return Release(decided: decided, done: done, generation: generation, node: String(parts[3]), bytes: bytes)
            case 4:
                guard let ns = UInt64(parts[0]), let generation = UInt64(parts[1]), let bytes = Int(parts[3]) else { return nil }
                return Release(decided: ns, done: ns, generation: generation, node: String(parts[2]), bytes: bytes)
            default:
                return nil
            }
        }
    }

    /// Human-readable violations (empty: never two primaries).
    public static func violations(in releases: [Release]) -> [String] {
        var problems: [String] = []
        var ownerOfGeneration: [UInt64: String] = [:]
        var newest: Release?
        for release in releases.sorted(by: { $0.decided < $1.decided }) {
            if let owner = ownerOfGeneration[release.generation], owner != release.node {
                problems.append("generation \(release.generation) released output from both \(owner) and \(release.node)")
            }
            ownerOfGeneration[release.generation] = release.node
            if let newest, release.generation < newest.generation {
                problems.append("\(release.node) released output at generation \(release.generation) after \(newest.node) had released at generation \(newest.generation) (decided \(milliseconds(release.decided - newest.decided)) after \(newest.node)'s first write)")
            }
            if newest == nil || release.generation > newest!.generation { newest = release }
        }
        return problems
    }

    /// Writes decided before a newer generation's first write but returned only after it
    /// (their node was stopped or not scheduled in between), each with how long it took: not
    /// violations, and not distinguishable from the times alone from writes that left after the
    /// newer generation's first one (see the type's documentation).
    public static func stalledWrites(in releases: [Release]) -> [String] {
        var firstDecided: [UInt64: Release] = [:]
        for release in releases where firstDecided[release.generation].map({ release.decided < $0.decided }) ?? true {
            firstDecided[release.generation] = release
        }
        var found: [String] = []
        for release in releases.sorted(by: { $0.decided < $1.decided }) {
            let overtaken = firstDecided.values
                .filter { $0.generation > release.generation && $0.decided > release.decided && $0.decided < release.done }
                .min { $0.decided < $1.decided }
            guard let newer = overtaken else { continue }
            found.append("\(release.node)'s write at generation \(release.generation) (\(release.bytes) bytes) took \(milliseconds(release.done - release.decided)) from its lease check to its return, past \(newer.node)'s first write at generation \(newer.generation)")
        }
        return found
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.3f ms", Double(nanoseconds) / 1e6)
    }
}
