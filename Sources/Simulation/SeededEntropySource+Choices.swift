import Machine

/// The simulation draws every choice of a run from the same SplitMix64 generator that feeds a
/// machine's entropy device, seeded by the run's seed.
typealias SeededRandom = SeededEntropySource

extension SeededEntropySource {
    /// A value in `0..<bound` (bound > 0).
    mutating func below(_ bound: UInt64) -> UInt64 { next() % bound }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    /// A uniform value in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * Double(next() >> 11) / Double(1 << 53)
    }
}
