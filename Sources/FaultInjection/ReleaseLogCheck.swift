import Foundation

/// Reads the nodes' release log ("MONOTONIC_NS GENERATION NODE BYTES" per output release, see
/// `lockstep node --release-log`) and finds moments when two primaries released output: a
/// release by an older generation after one by a newer generation, or one generation released
/// from two nodes.
public enum ReleaseLogCheck {
    public struct Release: Equatable {
        public var nanoseconds: UInt64
        public var generation: UInt64
        public var node: String
        public var bytes: Int
    }

    public static func parse(_ text: String) -> [Release] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 4, let ns = UInt64(parts[0]), let generation = UInt64(parts[1]), let bytes = Int(parts[3]) else { return nil }
            return Release(nanoseconds: ns, generation: generation, node: String(parts[2]), bytes: bytes)
        }
    }

    /// Human-readable violations (empty: never two primaries).
    public static func violations(in releases: [Release]) -> [String] {
        var problems: [String] = []
        var ownerOfGeneration: [UInt64: String] = [:]
        var newest: Release?
        for release in releases.sorted(by: { $0.nanoseconds < $1.nanoseconds }) {
            if let owner = ownerOfGeneration[release.generation], owner != release.node {
                problems.append("generation \(release.generation) released output from both \(owner) and \(release.node)")
            }
            ownerOfGeneration[release.generation] = release.node
            if let newest, release.generation < newest.generation {
                problems.append("\(release.node) released output at generation \(release.generation) after \(newest.node) had released at generation \(newest.generation)")
            }
            if newest == nil || release.generation > newest!.generation { newest = release }
        }
        return problems
    }
}
