import ArgumentParser
import Machine

/// `--engine jit|interpreter`: what executes the guest's instructions. A choice of this host
/// only: both engines give the same results, so a log or a backup made with one matches the other.
struct EngineOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("What executes guest instructions: jit (the binary translator, the default on x86-64 Linux; elsewhere the interpreter runs, with a notice if jit was asked for) or interpreter (the reference). Both give identical results.", valueName: "jit|interpreter"))
    var engine: String = ExecutionEngine.hostDefault.rawValue

    func validate() throws {
        guard ExecutionEngine(rawValue: engine) != nil else {
            throw ValidationError("--engine must be one of \(ExecutionEngine.allCases.map(\.rawValue).joined(separator: ", ")) (got \(engine))")
        }
    }

    /// The chosen engine (validated).
    var selected: ExecutionEngine { ExecutionEngine(rawValue: engine) ?? .interpreter }

    /// Installs the chosen engine in `machine`, printing the one-line notice if the JIT cannot run here.
    func apply(to machine: Machine) {
        if let notice = machine.use(selected) { printError(notice) }
    }
}
