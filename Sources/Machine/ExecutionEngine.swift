/// What executes a machine's guest instructions: a runtime choice of the host, not machine state
/// (not in ``MachineConfiguration``, snapshots or logs). Both engines give the same results at
/// every instruction count, so a run recorded with one replays with the other.
public enum ExecutionEngine: String, CaseIterable, Sendable {
    /// The interpreter (the reference, and the default).
    case interpreter
    /// The binary translator (x86-64 Linux only; elsewhere the interpreter runs).
    case jit
}
