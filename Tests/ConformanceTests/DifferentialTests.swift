import Conformance
import Foundation
import Machine
import Testing

@Suite("Differential conformance against QEMU", .serialized)
struct DifferentialTests {
    /// The harness and generator on QEMU alone: every program assembles, runs without trapping,
    /// dumps every field, two runs agree exactly, and different seeds give different states.
    @Test("harness runs on QEMU deterministically")
    func qemuSelfCheck() throws {
        let toolchain = try Toolchain()
        let qemu = try QEMURunner()
        let cases = (1000..<1024 as Range<UInt64>).map { ProgramGenerator().generate(seed: $0) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-conf-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let elf = try toolchain.build(source: Harness.assembly(for: cases, options: .init(dumpMemory: true)),
                                      in: directory, name: "selfcheck")
        let first = try qemu.run(elf: elf), second = try qemu.run(elf: elf)
        #expect(first.exitedCleanly, "QEMU: \(first.termination)")
        #expect(first.text == second.text, "two QEMU runs of the same ELF differ")
        let run = ParsedRun(first.text)
        #expect(run.finished)
        #expect(run.traps.isEmpty, "unexpected traps: \(run.traps.values.map(\.description))")
        #expect(run.unparsed.isEmpty, "unparsed output: \(run.unparsed.prefix(5))")
        var states = Set<[UInt64]>()
        for index in cases.indices {
            let dump = try #require(run.cases[index])
            #expect(dump.complete && dump.seed == cases[index].seed)
            #expect(dump.values.count == Harness.fieldNames.count)
            #expect(dump.memory.count == ScratchLayout.totalSize / 8)
            #expect(dump.values["mstatus"].map { $0 & 0x6000 } == 0x6000, "FS should be dirty after the FP loads")
            states.insert(Harness.fieldNames.map { dump.values[$0] ?? 0 })
        }
        #expect(states.count == cases.count, "different seeds produced identical final states")
    }

    /// 300 seeds through QEMU and Lockstep, on each engine; every case must produce the same
    /// architectural state. On the JIT each program also runs under the lockstep checker (the JIT
    /// and the interpreter side by side, the whole state compared every 97 instructions).
    @Test("300 seeds: Lockstep matches QEMU", arguments: ExecutionEngine.allCases)
    func differential(engine: ExecutionEngine) throws {
        var configuration = SoakConfiguration()
        configuration.firstSeed = 1
        configuration.seedCount = 300
        configuration.batchSize = 25
        configuration.length = 200
        configuration.jobs = max(2, ProcessInfo.processInfo.activeProcessorCount)
        configuration.minimizeLimit = 0
        let suite = try ConformanceSuite(configuration: configuration, subject: LockstepRunner(engine: engine, checksEngines: engine == .jit))
        let report = suite.run()
        let details = report.failures.map(\.description).joined(separator: "\n")
        #expect(report.failed == 0, "\(report.summary)\n\(details)")
        #expect(report.passed + report.failed == 300)
    }
}

/// A stand-in for Lockstep that runs QEMU and then corrupts one value, to prove the differ
/// (and the failure report) notices.
private struct CorruptingRunner: ProgramRunner {
    let name = "corrupted QEMU"
    let inner: QEMURunner
    let caseIndex: Int
    let field: String

    func run(elf: URL) throws -> RunOutput {
        var output = try inner.run(elf: elf)
        var lines = output.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var currentCase = -1
        for i in lines.indices {
            if lines[i].hasPrefix("case=") { currentCase = Int(lines[i].dropFirst(5).prefix(4), radix: 16) ?? -1 }
            if currentCase == caseIndex && lines[i].hasPrefix(field + "=") {
                let value = UInt64(lines[i].dropFirst(field.count + 1), radix: 16)! ^ 0x10
                lines[i] = field + "=" + String(repeating: "0", count: 16 - String(value, radix: 16).count) + String(value, radix: 16)
            }
        }
        output.text = lines.joined(separator: "\n")
        return output
    }
}

@Suite("Differ")
struct DifferTests {
    @Test("a corrupted register is reported with seed, field and both values")
    func detectsCorruption() throws {
        var configuration = SoakConfiguration()
        configuration.firstSeed = 77
        configuration.seedCount = 8
        configuration.batchSize = 8
        let suite = try ConformanceSuite(configuration: configuration,
                                         subject: CorruptingRunner(inner: try QEMURunner(), caseIndex: 3, field: "f7"))
        let report = suite.run()
        #expect(report.passed == 7)
        let failure = try #require(report.mismatches.first)
        #expect(report.failed == 1 && failure.seed == 80 && failure.caseIndex == 3)
        #expect(failure.differences.map(\.field) == ["f7"])
        #expect(failure.description.contains("seed 80") && failure.description.contains("f7: qemu=0x"))
    }

    @Test("parsing traps and incomplete dumps")
    func parsing() {
        let text = """
            case=0000 seed=0000000000000005
            x1=0000000000000001
            end
            case=0001 seed=0000000000000006
            trap case=0001 mcause=0000000000000002 mepc=0000000080000100 mtval=0000000000000000
            done
            """
        let run = ParsedRun(text)
        #expect(run.finished)
        #expect(run.cases[0]?.complete == true && run.cases[0]?.values["x1"] == 1)
        #expect(run.cases[1]?.complete == false)
        #expect(run.traps[1]?.mcause == 2)
        let reference = ParsedRun(text.replacingOccurrences(of: "trap case=0001 mcause=0000000000000002 mepc=0000000080000100 mtval=0000000000000000\n", with: "end\n"))
        if case .mismatch(_, let notes) = Differ.compare(index: 1, reference: reference, actual: run) {
            #expect(notes.contains { $0.contains("illegal instruction") })
        } else {
            Issue.record("trap not reported as a mismatch")
        }
        #expect(Differ.compare(index: 0, reference: reference, actual: run) == .match)
    }
}
