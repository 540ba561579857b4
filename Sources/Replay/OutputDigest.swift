import Machine

/// A running digest of everything a machine sent out (``MachineOutput``), in order: two runs that
/// produced the same outputs have the same digest. It is a chain (each output's hash folded into
/// the value so far), so a digest read from a log or a checkpoint can be extended exactly: a
/// backup that joins from a snapshot adopts the primary's digest at its first checkpoint.
public struct OutputDigest: Equatable, Sendable, CustomStringConvertible {
    /// Outputs counted (each console write as the machine emitted it, each frame).
    public private(set) var outputCount: UInt64 = 0
    /// Console bytes and frame bytes in total.
    public private(set) var byteCount: UInt64 = 0
    /// The digest's 64-bit value.
    public private(set) var value: UInt64 = 0

    public init() {}

    /// A digest as a log or a checkpoint carries it.
    public init(outputCount: UInt64, byteCount: UInt64, value: UInt64) {
        self.outputCount = outputCount
        self.byteCount = byteCount
        self.value = value
    }

    /// Adds one output.
    public mutating func add(_ output: MachineOutput) {
        var hasher = StateHasher()
        hasher.combine(value)
        let bytes: [UInt8]
        switch output {
        case .console(let data): hasher.combine(1); bytes = data
        case .networkFrame(let data): hasher.combine(2); bytes = data
        }
        hasher.combine(UInt64(bytes.count))
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        value = hasher.finalize()
        outputCount &+= 1
        byteCount &+= UInt64(bytes.count)
    }

    public var description: String { "\(outputCount) outputs (\(byteCount) bytes, digest 0x\(String(value, radix: 16)))" }
}
