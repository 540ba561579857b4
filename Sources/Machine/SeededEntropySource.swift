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

// MARK: Snapshot

extension SeededEntropySource {
    /// Writes the generator state and the bytes of the current output not handed out yet.
    public func save(to writer: inout StateWriter) {
        writer.writeUInt64(state)
        writer.writeUInt64(buffered)
        writer.writeUInt8(UInt8(bufferedCount))
    }

    /// Reads what ``save(to:)`` wrote.
    public init(from reader: inout StateReader) throws(SnapshotError) {
        state = try reader.readUInt64("entropy generator state")
        buffered = try reader.readUInt64("entropy buffered bytes")
        let count = try reader.readUInt8("entropy buffered byte count")
        guard count <= 8 else { throw reader.invalid("entropy buffered byte count is \(count), at most 8") }
        bufferedCount = Int(count)
    }
}
