/// A broken invariant: what the simulation found, at which virtual time.
public struct Violation: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case outputBeforeAcknowledgement = "output released before the backup acknowledged it"
        case twoReleasersInOneGeneration = "two nodes released output in one generation"
        case outputAfterNewerGeneration = "an older generation's output went out after a newer generation's"
        case divergence = "backup diverged from its primary"
        case lostWrite = "an acknowledged write was lost"
        case noProgress = "no progress after the faults stopped"
        case unexpectedStop = "a node stopped unexpectedly"
        case unexpectedReboot = "the guest rebooted unasked, or its time went back"
    }
    public var kind: Kind
    public var time: Double
    public var detail: String

    public var description: String {
        "\(kind.rawValue) at t=\(String(format: "%.4f", time)) s: \(detail)"
    }
}
