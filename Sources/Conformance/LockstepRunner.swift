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

    public init(instructionLimit: UInt64 = 50_000_000, memorySize: UInt64 = 64 << 20, engine: ExecutionEngine = .interpreter) {
        self.instructionLimit = instructionLimit
        self.memorySize = memorySize
        self.engine = engine
    }

    public func run(elf: URL) throws -> RunOutput {
        try run(elf: elf, onOutput: nil)
    }

    /// Runs the ELF; `onOutput`, if given, also receives every console byte as it is written.
    public func run(elf: URL, onOutput: ((UInt8) -> Void)?) throws -> RunOutput {
        let machine: Machine
        do {
            machine = try Machine(configuration: MachineConfiguration(memorySize: memorySize))
            try machine.load(elf: ELFFile(contentsOf: elf.path))
        } catch {
            throw ConformanceError.emulatorFailed("Lockstep could not load \(elf.path): \(error)")
        }
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

private final class OutputSink {
    var bytes: [UInt8] = []
    init() { bytes.reserveCapacity(1 << 16) }
}
