/// The answer to ``Arbiter/claim(vm:expectedGeneration:owner:)``.
public enum ArbitrationOutcome: Equatable, Sendable {
    /// The caller now owns the VM at this generation (expected + 1).
    case won(generation: UInt64)
    /// Someone else moved the generation first: the current generation and its owner.
    case lost(generation: UInt64, owner: String)
}
