import Foundation

/// What a ``LoadGenerator`` run saw (so far, in progress reports).
public struct LoadSummary: Sendable, CustomStringConvertible {
    /// Seconds since the run started.
    public var seconds: Double
    /// Writes the service acknowledged.
    public var writesAcknowledged: Int
    /// Reads that were checked against the ledger.
    public var readsChecked: Int
    /// Connections made after a client's first one (after a disconnect or a timeout).
    public var reconnects: Int
    /// Requests sent again after a reconnection.
    public var resends: Int
    /// The longest time between two answers to one client, in seconds: a failover's pause as the
    /// clients saw it.
    public var longestGap: Double
    /// Request latencies (from sending to the answer, reconnections included), in seconds.
    public var latencyP50: Double
    public var latencyP99: Double
    public var latencyMax: Double
    /// Reads during the run that found an acknowledged write lost.
    public var lostOnRead: [LostWrite]
    /// Clients that stopped with an error (the service stayed unavailable past the deadline, ...).
    public var failures: [String]
    /// Every client's writes, for ``Ledger/verify(using:)`` (complete once the run is over).
    public var ledger: Ledger

    public init(seconds: Double, writesAcknowledged: Int, readsChecked: Int, reconnects: Int, resends: Int,
                longestGap: Double, latencies: [Double], lostOnRead: [LostWrite], failures: [String], ledger: Ledger) {
        self.seconds = seconds
        self.writesAcknowledged = writesAcknowledged
        self.readsChecked = readsChecked
        self.reconnects = reconnects
        self.resends = resends
        self.longestGap = longestGap
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
        }
        latencyP50 = percentile(0.5)
        latencyP99 = percentile(0.99)
        latencyMax = sorted.last ?? 0
        self.lostOnRead = lostOnRead
        self.failures = failures
        self.ledger = ledger
    }

    /// True when no read found a lost write and no client failed.
    public var isClean: Bool { lostOnRead.isEmpty && failures.isEmpty }

    /// One line: the figures so far.
    public var progressLine: String {
        "\(String(format: "%.1f", seconds)) s: \(writesAcknowledged) writes acknowledged, \(readsChecked) reads checked, "
            + "\(reconnects) reconnects, longest pause \(String(format: "%.1f", longestGap * 1000)) ms"
    }

    public var description: String {
        let rate = seconds > 0 ? Double(writesAcknowledged) / seconds : 0
        var lines = [
            "writes acknowledged: \(writesAcknowledged) in \(String(format: "%.2f", seconds)) s (\(String(format: "%.1f", rate)) per second)",
            "reads checked:       \(readsChecked)",
            "reconnects:          \(reconnects) (\(resends) requests resent)",
            "longest pause:       \(String(format: "%.1f", longestGap * 1000)) ms between two answers",
            "latency:             p50 \(String(format: "%.2f", latencyP50 * 1000)) ms, p99 \(String(format: "%.2f", latencyP99 * 1000)) ms, max \(String(format: "%.1f", latencyMax * 1000)) ms",
        ]
        for lost in lostOnRead { lines.append("LOST (found on a read): \(lost)") }
        for failure in failures { lines.append("FAILED: \(failure)") }
        return lines.joined(separator: "\n")
    }
}
