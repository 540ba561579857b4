import ArgumentParser
import Machine

/// `--engine jit|interpreter`: what executes the guest's instructions. A choice of this host
/// only: both engines give the same results, so a log or a backup made with one matches the other.
struct EngineOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("What executes guest instructions: interpreter (the reference) or jit (the binary translator; x86-64 Linux only, elsewhere the interpreter runs with a notice). Both give identical results.", valueName: "jit|interpreter"))
    var engine: String = ExecutionEngine.interpreter.rawValue

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
