// lockstep-conformance: differential soak of Lockstep's CPU against QEMU.

import ArgumentParser
import Conformance
import Foundation
import Machine

struct LockstepConformance: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep-conformance",
        abstract: "Run random RV64GC programs on QEMU and on Lockstep and compare the final architectural state.",
        discussion: """
            Needs riscv64-linux-gnu-gcc (apt package gcc-riscv64-linux-gnu) and qemu-system-riscv64 \
            (apt package qemu-system-misc) in PATH.
            """)

    @Option(help: "Number of seeds to run.") var seeds: Int = 1000
    @Option(help: "First seed.") var firstSeed: UInt64 = 1
    @Option(help: "Test cases per ELF (one QEMU start per batch).") var batch: Int = 25
    @Option(help: "Instructions per generated program.") var length: Int = 200
    @Option(help: "Directory for failing cases (single-case assembly, minimised assembly).") var keep: String?
    @Option(help: "Batches run in parallel.") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Minimise at most this many mismatching seeds.") var minimize: Int = 10
    @Flag(help: "Compare QEMU against itself (validates the generator and harness without Lockstep).") var selfCheck = false
    @Option(help: "Print the single-case harness assembly for this seed and exit.") var emit: UInt64?
    @Option(help: "Assemble a kept .S file, run it on both emulators, print both dumps' differences and exit.")
    var reproduce: String?
    @Flag(help: "With --reproduce: also print the raw Lockstep output.") var verbose = false
    @Flag(inversion: .prefixedNo, help: "Run Lockstep in child processes so that crashes and hangs are reported, not fatal.")
    var isolate = true
    @Option(help: "Seconds before an isolated Lockstep run counts as hung.") var lockstepTimeout: Double = 300
    @Option(help: .hidden) var runLockstep: String?
    @Option(help: ArgumentHelp("What runs the programs on Lockstep: interpreter or jit.", valueName: "interpreter|jit"))
    var engine: String = ExecutionEngine.interpreter.rawValue
    @Flag(help: ArgumentHelp("""
        Also run each program on the JIT and the interpreter side by side (the lockstep checker: the JIT \
        translating every block at once, the whole state compared every 97 instructions and after one \
        straight run); a difference fails the seed and names the first instruction at which the two differ.
        """))
    var checkEngines = false

    func validate() throws {
        guard ExecutionEngine(rawValue: engine) != nil else {
            throw ValidationError("--engine must be one of \(ExecutionEngine.allCases.map(\.rawValue).joined(separator: ", ")) (got \(engine))")
        }
    }

    /// Lockstep on the chosen engine.
    var lockstep: LockstepRunner {
        LockstepRunner(engine: ExecutionEngine(rawValue: engine) ?? .interpreter, checksEngines: checkEngines)
    }

    func run() throws {
        if let elf = runLockstep {
            throw ExitCode(IsolatedRunner.childMain(runner: lockstep, elf: elf))
        }
        if let seed = emit {
            let testCase = ProgramGenerator(length: length).generate(seed: seed)
            print(Harness.assembly(for: [testCase], options: Harness.Options(dumpMemory: true)), terminator: "")
            print("# link with:\n" + Harness.linkerScript.split(separator: "\n").map { "#   " + $0 }.joined(separator: "\n"))
            return
        }
        if let path = reproduce {
            try reproduceFile(path)
            return
        }
        var configuration = SoakConfiguration()
        configuration.firstSeed = firstSeed
        configuration.seedCount = seeds
        configuration.batchSize = batch
        configuration.length = length
        configuration.jobs = jobs
        configuration.minimizeLimit = minimize
        configuration.keepDirectory = keep.map { URL(fileURLWithPath: $0) }
        let suite: ConformanceSuite
        do {
            let subject: any ProgramRunner
            if selfCheck {
                subject = try QEMURunner()
            } else if isolate {
                subject = IsolatedRunner(executable: Self.ownExecutable, arguments: ["--engine", engine] + (checkEngines ? ["--check-engines"] : []) + ["--run-lockstep"], timeout: lockstepTimeout)
            } else {
                subject = lockstep
            }
            suite = try ConformanceSuite(configuration: configuration, subject: subject)
        } catch let error as ConformanceError {
            throw ValidationError(error.description)
        }
        let start = Date()
        let report = suite.run { done, total, snapshot in
            FileHandle.standardError.write(Data("\r\(done)/\(total) seeds, \(snapshot.failed) failed   ".utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        for failure in report.failures { print(failure.description) }
        print(report.summary + String(format: " in %.1f s", Date().timeIntervalSince(start)))
        if report.failed > 0 { throw ExitCode(1) }
    }
}

extension LockstepConformance {
    static var ownExecutable: URL {
        let proc = URL(fileURLWithPath: "/proc/self/exe")
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: proc.path) {
            return URL(fileURLWithPath: resolved)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0])
    }

    func reproduceFile(_ path: String) throws {
        let source = try String(contentsOfFile: path, encoding: .utf8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-conformance-repro-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let elf = try Toolchain().build(source: source, in: directory, name: "repro")
        let reference = try QEMURunner().run(elf: elf)
        let actual = try lockstep.run(elf: elf)
        if verbose { print(actual.text) }
        print("QEMU: \(reference.termination); Lockstep: \(actual.termination)")
        let referenceRun = ParsedRun(reference.text), actualRun = ParsedRun(actual.text)
        var failed = false
        for index in referenceRun.cases.keys.sorted() {
            switch Differ.compare(index: index, reference: referenceRun, actual: actualRun) {
            case .match: print("case \(index): match")
            case .invalidReference(let message): failed = true; print("case \(index): \(message)")
            case .mismatch(let differences, let notes):
                failed = true
                print("case \(index): MISMATCH")
                for note in notes { print("    " + note) }
                for difference in differences { print("    " + difference.description) }
            }
        }
        if failed { throw ExitCode(1) }
    }
}

LockstepConformance.main()
