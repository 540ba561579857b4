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

extension Machine {
    /// What the translator has done while the JIT ran the hart (nil on the interpreter).
    public var jitStatistics: JITStatistics? { (hart.accelerator as? JITAccelerator)?.statistics }

    /// Has the translator time its translations with `clock` (host nanoseconds), for
    /// ``JITStatistics/translationNanoseconds`` only; nothing on the interpreter. The machine
    /// never reads it: the translator calls it around each translation, and nothing the guest
    /// sees depends on the times.
    public func timeTranslations(with clock: @escaping () -> UInt64) {
        (hart.accelerator as? JITAccelerator)?.translationClock = clock
    }
}
