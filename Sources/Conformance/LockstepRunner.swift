// Runs a harness ELF on Lockstep itself, in-process, through the Machine module.

import ELF
import Foundation
import Machine

public struct LockstepRunner: ProgramRunner {
    public var name: String { engine == .interpreter ? "Lockstep" : "Lockstep (\(engine.rawValue))" }
    public var instructionLimit: UInt64
    public var memorySize: UInt64
    /// The engine that runs the program.
    public var engine: ExecutionEngine
    /// Before the run, also run the program on both engines side by side with the
    /// ``LockstepChecker`` (the JIT translating every block the first time it runs), comparing
    /// their whole state every ``checkerStep`` instructions and again with one straight run; a
    /// difference fails the run with ``ConformanceError/enginesDiffer(_:)``.
    public var checksEngines = false
    /// How often the checker compares, in instructions (a prime, so that steps cut blocks at
    /// every offset).
    public var checkerStep: UInt64 = 97
    /// The RAM of the checker's machines: the harness's programs need a few pages, and the
    /// checker compares every byte of RAM at every step.
    public var checkerMemorySize: UInt64 = 1 << 20

    public init(instructionLimit: UInt64 = 50_000_000, memorySize: UInt64 = 64 << 20, engine: ExecutionEngine = .interpreter,
                checksEngines: Bool = false) {
        self.instructionLimit = instructionLimit
        self.memorySize = memorySize
        self.engine = engine
        self.checksEngines = checksEngines
    }

    public func run(elf: URL) throws -> RunOutput {
        try run(elf: elf, onOutput: nil)
    }

    /// Runs the ELF; `onOutput`, if given, also receives every console byte as it is written.
    public func run(elf: URL, onOutput: ((UInt8) -> Void)?) throws -> RunOutput {
        let machine: Machine, file: ELFFile
        do {
            file = try ELFFile(contentsOf: elf.path)
            machine = try Machine(configuration: MachineConfiguration(memorySize: memorySize))
            try machine.load(elf: file)
        } catch {
            throw ConformanceError.emulatorFailed("Lockstep could not load \(elf.path): \(error)")
        }
        if checksEngines { try checkEngines(file, path: elf.path) }
        if let notice = machine.use(engine) {
            throw ConformanceError.emulatorFailed("Lockstep cannot run the \(engine.rawValue) engine here: \(notice)")
        }
        let sink = OutputSink()
        if let onOutput {
            machine.routeConsole { byte in sink.bytes.append(byte); onOutput(byte) }
        } else {
            machine.routeConsole { byte in sink.bytes.append(byte) }
        }
        let stop = machine.run(instructionLimit: instructionLimit)
        let text = String(decoding: sink.bytes, as: UTF8.self)
        switch stop {
        case .exited(let code):
            return RunOutput(text: text, termination: "exited with code \(code) after \(machine.instructionCount) instructions",
                             exitedCleanly: code == 0)
        default:
            return RunOutput(text: text, termination: "stopped: \(stop) after \(machine.instructionCount) instructions (pc=0x\(String(machine.hart.pc, radix: 16)))",
                             exitedCleanly: false)
        }
    }
}

extension LockstepRunner {
    /// The lockstep checker on the program: every ``checkerStep`` instructions, then in one run.
    func checkEngines(_ file: ELFFile, path: String) throws {
        var checker = LockstepChecker {
            let machine = try Machine(configuration: MachineConfiguration(memorySize: checkerMemorySize))
            try machine.load(elf: file)
            return machine
        }
        checker.translationThreshold = 0
        for step in [checkerStep, instructionLimit] {
            let report = try checker.check(step: step, total: instructionLimit)
            if let difference = report.firstDifference {
                throw ConformanceError.enginesDiffer("\(path), compared every \(step) instructions: \(difference)")
            }
        }
    }
}

private final class OutputSink {
    var bytes: [UInt8] = []
    init() { bytes.reserveCapacity(1 << 16) }
}
