/// Probe results over a sliding window of time: latency percentiles of the answers and how many
/// probes failed. A pure value: the agent adds samples with its clock, tests with theirs.
public struct LatencyWindow: Sendable {
    /// One probe: when it was sent, and how long the answer took (nil: no answer or a wrong one).
    public struct Sample: Sendable, Equatable {
        public var time: Double
        public var latency: Double?
    }

    /// How far back samples count (seconds).
    public let span: Double
    public private(set) var samples: [Sample] = []

    public init(span: Double = 30) { self.span = span }

    /// Adds a probe's result at `time` and forgets samples older than the span.
    public mutating func add(latency: Double?, at time: Double) {
        samples.append(Sample(time: time, latency: latency))
        let oldest = time - span
        if let first = samples.firstIndex(where: { $0.time >= oldest }), first > 0 { samples.removeFirst(first) }
    }

    /// The `p`-quantile (0...1) of the answered probes' latencies, nearest-rank; nil without answers.
    public func percentile(_ p: Double) -> Double? {
        let latencies = samples.compactMap(\.latency).sorted()
        guard !latencies.isEmpty else { return nil }
        let rank = Int((p * Double(latencies.count)).rounded(.up))
        return latencies[min(max(rank, 1), latencies.count) - 1]
    }

    /// Failed probes in the window.
    public var failures: Int { samples.filter { $0.latency == nil }.count }

    /// How many of the last `count` probes were answered slower than `seconds`.
    public func slowCount(last count: Int, above seconds: Double) -> Int {
        samples.suffix(count).filter { ($0.latency ?? 0) > seconds }.count
    }

    /// Consecutive failures at the end of the window.
    public var failureStreak: Int {
        var count = 0
        for sample in samples.reversed() { if sample.latency == nil { count += 1 } else { break } }
        return count
    }
}
