/// Something that runs a hart faster than the interpreter with exactly its results: the same
/// registers, memory, CSRs and instruction count at every point where ``Hart/run(until:)``
/// returns (a binary translator, see the JIT module and docs/jit.md).
///
/// An accelerator is installed in ``Hart/accelerator``; ``Hart/run(until:)`` then calls it
/// instead of the interpreter loop. It may hand any instruction back to the interpreter with
/// ``Hart/interpret(until:)``, which is how instruction boundaries (stop requests, interrupts,
/// WFI) keep the interpreter's semantics.
public protocol HartAccelerator: AnyObject {
    /// Runs `hart` as ``Hart/run(until:)`` does: until `instructionCount == limit`, a stop
    /// request, or WFI with nothing pending, returning why.
    func run(_ hart: Hart, until limit: UInt64) -> Hart.StopReason
}
