import DequeModule
import Machine

/// Holds the primary's outputs until the backup has acknowledged every log entry they depend on
/// (the output rule). Each output is tagged with the sequence number of the last entry appended
/// before the guest produced it; it may leave once the backup's acknowledgement reaches that
/// number. Outputs leave in the order they were produced. A pure value: the primary's machine
/// thread and the simulation drive it alike.
public struct OutputGate: Sendable {
    /// One held output; console bytes are kept apart from the enum so that joining bytes with the
    /// same tag appends in place (Deque's subscript modifies in place) instead of copying.
    struct Held: Sendable {
        var sequence: UInt64
        var isFrame: Bool
        var bytes: [UInt8]
        /// When the gate took it (the caller's clock).
        var since: Double

        var output: MachineOutput { isFrame ? .networkFrame(bytes) : .console(bytes) }
    }
    private var held: Deque<Held> = []
    /// Bytes waiting (console bytes and frame bytes).
    public private(set) var heldBytes = 0

    public init() {}

    /// Adds an output produced after the entry `sequence` was appended, at `time` (the caller's
    /// clock, for ``oldestSince``). Console bytes with the same tag join the previous console
    /// output (which keeps its time).
    public mutating func hold(_ output: MachineOutput, after sequence: UInt64, at time: Double = 0) {
        switch output {
        case .console(let bytes):
            guard !bytes.isEmpty else { return }
            heldBytes += bytes.count
            if let last = held.last, last.sequence == sequence, !last.isFrame {
                held[held.count - 1].bytes.append(contentsOf: bytes)
            } else {
                held.append(Held(sequence: sequence, isFrame: false, bytes: bytes, since: time))
            }
        case .networkFrame(let frame):
            heldBytes += frame.count
            held.append(Held(sequence: sequence, isFrame: true, bytes: frame, since: time))
        }
    }

    /// Removes and returns, in order, every output whose entries the backup has acknowledged.
    public mutating func release(acknowledged sequence: UInt64) -> [MachineOutput] {
        var out: [MachineOutput] = []
        while let first = held.first, first.sequence <= sequence {
            out.append(first.output)
            heldBytes -= first.bytes.count
            held.removeFirst()
        }
        return out
    }

    /// Puts `outputs` back at the front, in order, as if produced after entry `sequence` (outputs
    /// taken by ``release(acknowledged:)`` that could not be sent after all), held since `time`
    /// (the oldest's time before they were taken).
    public mutating func putBack(_ outputs: [MachineOutput], after sequence: UInt64, since time: Double = 0) {
        for output in outputs.reversed() {
            switch output {
            case .console(let bytes):
                heldBytes += bytes.count
                held.prepend(Held(sequence: sequence, isFrame: false, bytes: bytes, since: time))
            case .networkFrame(let frame):
                heldBytes += frame.count
                held.prepend(Held(sequence: sequence, isFrame: true, bytes: frame, since: time))
            }
        }
    }

    /// Everything held, regardless of acknowledgements (a primary running alone after it won the arbiter).
    public mutating func releaseAll() -> [MachineOutput] { release(acknowledged: .max) }

    /// The tag of the oldest output held (nil when empty).
    public var oldestSequence: UInt64? { held.first?.sequence }

    /// When the oldest output held was taken (nil when empty).
    public var oldestSince: Double? { held.first?.since }

    /// Outputs held (console bytes with one tag count once).
    public var count: Int { held.count }

    public var isEmpty: Bool { held.isEmpty }
}
