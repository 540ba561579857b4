import JIT
import RISCV

extension Machine {
    /// The engine every machine starts on: the interpreter, unless a whole process puts its
    /// machines on one engine (the test suite's second pass on the JIT, `LOCKSTEP_TEST_ENGINE`).
    /// Set it before the first machine is made, never while machines run; a machine still
    /// changes engine with ``use(_:)``. Sound as a plain global: written once at process start,
    /// before any thread makes a machine.
    nonisolated(unsafe) public static var initialEngine: ExecutionEngine = .interpreter

    /// The engine running the hart: ``ExecutionEngine/jit`` while a translator is installed.
    public var engine: ExecutionEngine { hart.accelerator is JITAccelerator ? .jit : .interpreter }

    /// Selects the engine that runs the guest from now on. Returns a one-line notice when the
    /// translator cannot work on this host (not x86-64 Linux, executable memory refused): the
    /// interpreter runs then. Between runs only.
    @discardableResult
    public func use(_ engine: ExecutionEngine) -> String? {
        switch engine {
        case .interpreter:
            hart.accelerator = nil
            return nil
        case .jit:
            if hart.accelerator is JITAccelerator { return nil }
            do {
                hart.accelerator = try JITAccelerator()
                return nil
            } catch {
                hart.accelerator = nil
                return "lockstep: the JIT cannot run here (\(error)); using the interpreter"
            }
        }
    }
}
