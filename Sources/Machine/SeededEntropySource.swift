/// A deterministic entropy source: the SplitMix64 sequence from a 64-bit seed. Never runs dry.
/// Not cryptographically secure; it exists so that a machine's "random" bytes are reproducible.
public struct SeededEntropySource: EntropySource, Sendable, Equatable {
    /// The generator state (the seed advanced by every 8 bytes produced).
    public private(set) var state: UInt64
    /// Bytes of the current 64-bit output not handed out yet (low bytes first).
    private var buffered: UInt64 = 0
    private var bufferedCount = 0

    public init(seed: UInt64) { state = seed }

    /// The next 64-bit SplitMix64 output.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func take(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(0, count))
        while bytes.count < count {
            if bufferedCount == 0 {
                buffered = next()
                bufferedCount = 8
            }
            bytes.append(UInt8(truncatingIfNeeded: buffered))
            buffered >>= 8
            bufferedCount -= 1
        }
        return bytes
    }
}
