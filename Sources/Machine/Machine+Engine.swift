import JIT
import RISCV

extension Machine {
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
