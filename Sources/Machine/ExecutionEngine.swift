/// What executes a machine's guest instructions: a runtime choice of the host, not machine state
/// (not in ``MachineConfiguration``, snapshots or logs). Both engines give the same results at
/// every instruction count, so a run recorded with one replays with the other.
public enum ExecutionEngine: String, CaseIterable, Sendable {
    /// The interpreter (the reference, and the default of a ``Machine`` made in code).
    case interpreter
    /// The binary translator (x86-64 Linux only; elsewhere the interpreter runs).
    case jit

    /// What the commands run when not told otherwise: the translator where it works (x86-64
    /// Linux), the interpreter elsewhere. (A ``Machine`` made in code runs the interpreter until
    /// ``Machine/use(_:)`` says otherwise.)
    public static var hostDefault: ExecutionEngine {
        #if arch(x86_64) && os(Linux)
        return .jit
        #else
        return .interpreter
        #endif
    }
}
