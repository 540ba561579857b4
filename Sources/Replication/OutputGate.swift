import DequeModule

/// Holds the primary's outputs until the backup has acknowledged every log entry that precedes
/// them (the output rule). Each output is tagged with the sequence number of the last entry sent
/// before the guest produced it; it may leave once the backup's acknowledgement reaches that
/// number. Outputs leave in the order they were produced.
public struct OutputGate: Sendable {
    struct Held: Sendable {
        var sequence: UInt64
        var bytes: [UInt8]
    }
    private var held: Deque<Held> = []
    /// Bytes waiting.
    public private(set) var heldBytes = 0

    public init() {}

    /// Adds console bytes produced after the entry `sequence` was sent.
    public mutating func hold(_ bytes: [UInt8], after sequence: UInt64) {
        guard !bytes.isEmpty else { return }
        heldBytes += bytes.count
        if var last = held.last, last.sequence == sequence {
            last.bytes += bytes
            held[held.count - 1] = last
        } else {
            held.append(Held(sequence: sequence, bytes: bytes))
        }
    }

    /// Removes and returns, in order, every output whose entries the backup has acknowledged.
    public mutating func release(acknowledged sequence: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        while let first = held.first, first.sequence <= sequence {
            out += first.bytes
            held.removeFirst()
        }
        heldBytes -= out.count
        return out
    }

    /// Everything held, regardless of acknowledgements (a primary running alone after it won the arbiter).
    public mutating func releaseAll() -> [UInt8] { release(acknowledged: .max) }

    public var isEmpty: Bool { held.isEmpty }
}
