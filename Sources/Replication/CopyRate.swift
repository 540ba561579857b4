/// The rate of a live copy to a joining backup (`--sync-rate`), as a token bucket: bytes may be
/// sent as time allows, with bursts of at most a tenth of a second's worth (or one unit, when a
/// unit is larger), so that a re-protection does not starve the guest's own traffic.
public struct CopyRate: Sendable {
    public let bytesPerSecond: Double
    /// The largest piece sent at once (an extent, a batch of pages).
    public let unit: Double
    private var allowance: Double
    private var lastTime: Double

    public init(bytesPerSecond: Double, unit: Double, now: Double) {
        self.bytesPerSecond = bytesPerSecond
        self.unit = unit
        allowance = unit   // the first piece at once
        lastTime = now
    }

    /// What may be sent now (the caller spends from it, and gives back what is left).
    public mutating func budget(now: Double) -> Double {
        allowance = min(allowance + max(0, now - lastTime) * bytesPerSecond, max(bytesPerSecond * 0.1, unit))
        lastTime = now
        return allowance
    }

    /// Keeps what the caller did not spend.
    public mutating func keep(_ left: Double) { allowance = left }

    /// Seconds until a whole unit may be sent.
    public var wait: Double { max(0, (unit - allowance) / bytesPerSecond) }
}
