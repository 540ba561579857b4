// Orchestration: generate, build, run on both emulators, compare, reproduce, minimise.

import Foundation

public struct SoakConfiguration: Sendable {
    public var firstSeed: UInt64 = 1
    public var seedCount: Int = 1000
    /// Test cases per ELF (amortises QEMU start-up).
    public var batchSize: Int = 25
    /// Instructions per generated body.
    public var length: Int = 200
    public var jobs: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Where failing cases (and, for failures, their reproductions) are written; nil keeps nothing.
    public var keepDirectory: URL? = nil
    /// How many mismatching seeds to minimise (minimisation runs many small QEMU jobs).
    public var minimizeLimit: Int = 0

    public init() {}

    public var seeds: [UInt64] { (0..<UInt64(seedCount)).map { firstSeed &+ $0 } }
}

public struct Failure: Sendable {
    public enum Kind: String, Sendable { case mismatch, invalidReference = "invalid test", infrastructure }
    public var kind: Kind
    public var seed: UInt64
    public var caseIndex: Int
    public var differences: [FieldDifference]
    public var notes: [String]
    /// The case's body (labels resolved for reading).
    public var body: [String]
    public var minimizedBody: [String]?
    public var minimizedDifferences: [FieldDifference]?
    /// Initial values of the registers and memory words the minimised body refers to.
    public var initialState: [String] = []
    public var keptFiles: [String] = []

    public var description: String {
        var s = "[\(kind.rawValue)] seed \(seed) (batch case \(caseIndex))"
        for note in notes { s += "\n    " + note }
        for d in (minimizedDifferences ?? differences).prefix(12) { s += "\n    " + d.description }
        if let body = minimizedBody {
            s += "\n    minimised body (\(body.count) lines):"
            for line in body.prefix(40) { s += "\n      " + line }
            if !initialState.isEmpty { s += "\n    initial state: " + initialState.joined(separator: ", ") }
        }
        for file in keptFiles { s += "\n    kept: " + file }
        return s
    }
}

public struct SoakReport: Sendable {
    public var passed = 0
    public var failures: [Failure] = []

    public var failed: Int { failures.count }
    public var mismatches: [Failure] { failures.filter { $0.kind == .mismatch } }

    public var summary: String {
        let invalid = failures.filter { $0.kind == .invalidReference }.count
        let infra = failures.filter { $0.kind == .infrastructure }.count
        return "passed: \(passed), failed: \(failed) (mismatches: \(mismatches.count), invalid tests: \(invalid), infrastructure errors: \(infra))"
    }
}

public final class ConformanceSuite: @unchecked Sendable {
    public let configuration: SoakConfiguration
    public let reference: any ProgramRunner
    public let subject: any ProgramRunner
    public let toolchain: Toolchain
    public let generator: ProgramGenerator
    let workRoot: URL
    private let lock = NSLock()
    private var minimizationsStarted = 0

    public init(configuration: SoakConfiguration, reference: (any ProgramRunner)? = nil,
                subject: (any ProgramRunner)? = nil) throws {
        self.configuration = configuration
        self.toolchain = try Toolchain()
        self.reference = try reference ?? QEMURunner()
        self.subject = subject ?? LockstepRunner()
        self.generator = ProgramGenerator(length: configuration.length)
        workRoot = FileManager.default.temporaryDirectory
            .appendingPathComponent("lockstep-conformance-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
    }

    deinit { try? FileManager.default.removeItem(at: workRoot) }

    /// Runs every configured seed; `progress` is called after each batch with (seeds done, total).
    public func run(progress: (@Sendable (Int, Int, SoakReport) -> Void)? = nil) -> SoakReport {
        let seeds = configuration.seeds
        let batchSize = max(1, configuration.batchSize)
        let batches = stride(from: 0, to: seeds.count, by: batchSize).map {
            Array(seeds[$0..<min($0 + batchSize, seeds.count)])
        }
        let state = SharedState()
        let jobs = max(1, min(configuration.jobs, batches.count))
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while let index = state.nextIndex(limit: batches.count) {
                let result = runBatch(batches[index], name: "batch-\(index)")
                let snapshot = state.add(result)
                progress?(snapshot.passed + snapshot.failed, seeds.count, snapshot)
            }
        }
        var report = state.report
        report.failures.sort { $0.seed < $1.seed }
        return report
    }

    /// Generates, builds and runs one batch; returns its outcome.
    public func runBatch(_ seeds: [UInt64], name: String) -> SoakReport {
        var report = SoakReport()
        let cases = seeds.map(generator.generate(seed:))
        let directory = workRoot.appendingPathComponent(name)
        defer { try? FileManager.default.removeItem(at: directory) }
        let referenceRun: ParsedRun, subjectRun: ParsedRun
        var subjectTermination = ""
        do {
            let elf = try toolchain.build(source: Harness.assembly(for: cases), in: directory, name: name)
            referenceRun = ParsedRun(try reference.run(elf: elf).text)
            let output = try subject.run(elf: elf)
            subjectTermination = output.termination
            subjectRun = ParsedRun(output.text)
        } catch {
            for (i, c) in cases.enumerated() {
                report.failures.append(Failure(kind: .infrastructure, seed: c.seed, caseIndex: i, differences: [],
                                               notes: ["\(error)"], body: readableBody(c)))
            }
            return report
        }
        for (index, testCase) in cases.enumerated() {
            switch Differ.compare(index: index, reference: referenceRun, actual: subjectRun) {
            case .match:
                report.passed += 1
            case .invalidReference(let message):
                var failure = Failure(kind: .invalidReference, seed: testCase.seed, caseIndex: index, differences: [],
                                      notes: [message], body: readableBody(testCase))
                keep(&failure, testCase)
                report.failures.append(failure)
            case .mismatch(let differences, var notes):
                if subjectRun.cases[index]?.complete != true { notes.append("Lockstep run: \(subjectTermination)") }
                var failure = Failure(kind: .mismatch, seed: testCase.seed, caseIndex: index,
                                      differences: differences, notes: notes, body: readableBody(testCase))
                investigate(&failure, testCase)
                if let keepDirectory = configuration.keepDirectory {
                    let url = keepDirectory.appendingPathComponent("seed-\(testCase.seed).txt")
                    failure.keptFiles.append(url.path)
                    let text = failure.description + "\n\nreproduce: lockstep-conformance --reproduce "
                        + (failure.keptFiles.first ?? "seed-\(testCase.seed).S") + "\n"
                    try? text.write(to: url, atomically: true, encoding: .utf8)
                }
                report.failures.append(failure)
            }
        }
        return report
    }

    func readableBody(_ testCase: TestCase) -> [String] {
        testCase.chunks.flatMap(\.lines).map { $0.replacingOccurrences(of: "{L}", with: ".L") }
    }

    /// Writes the single-case reproduction and, within the configured budget, minimises it.
    func investigate(_ failure: inout Failure, _ testCase: TestCase) {
        keep(&failure, testCase)
        let shouldMinimize: Bool = lock.withLock {
            guard minimizationsStarted < configuration.minimizeLimit else { return false }
            minimizationsStarted += 1
            return true
        }
        guard shouldMinimize else { return }
        let minimizer = Minimizer(suite: self)
        guard let result = minimizer.minimize(testCase, originalComparison: .mismatch(differences: failure.differences, notes: failure.notes)) else {
            failure.notes.append("the mismatch does not reproduce with this case alone")
            return
        }
        failure.minimizedBody = readableBody(result.testCase)
        failure.initialState = Self.relevantInitialState(result.testCase)
        if case .mismatch(let differences, let notes) = result.comparison {
            failure.minimizedDifferences = differences
            for note in notes where !failure.notes.contains(note) { failure.notes.append("minimised: " + note) }
        }
        if let keepDirectory = configuration.keepDirectory {
            let url = keepDirectory.appendingPathComponent("seed-\(testCase.seed).min.S")
            try? Harness.assembly(for: [result.testCase], options: Harness.Options(dumpMemory: true))
                .write(to: url, atomically: true, encoding: .utf8)
            failure.keptFiles.append(url.path)
        }
    }

    /// Initial values of the registers (and x8-relative memory words) a body mentions.
    static func relevantInitialState(_ testCase: TestCase) -> [String] {
        var integers = Set<Int>(), floats = Set<Int>(), offsets = Set<Int>()
        for line in testCase.chunks.flatMap(\.lines) where !line.hasSuffix(":") {
            let tokens = line.split(whereSeparator: { " ,()".contains($0) })
            for (i, token) in tokens.enumerated() {
                if token.hasPrefix("x"), let n = Int(token.dropFirst()), n > 0, n < 32 { integers.insert(n) }
                if token.hasPrefix("f"), token.count <= 3, let n = Int(token.dropFirst()), n < 32 { floats.insert(n) }
                if token == "x8", i > 0, let offset = Int(tokens[i - 1]) { offsets.insert(offset) }
            }
            if line.contains("sp") { integers.insert(2) }
        }
        var result: [String] = []
        for r in integers.sorted() {
            switch r {
            case 2: result.append("x2=scratch+\(ScratchLayout.initialSP)")
            case 8: result.append("x8=scratch")
            default: result.append("x\(r)=0x\(String(testCase.intRegisters[r], radix: 16))")
            }
        }
        for r in floats.sorted() { result.append("f\(r)=0x\(Harness.hex(testCase.fpRegisters[r]))") }
        for offset in offsets.sorted() where offset >= 0 && offset + 8 <= testCase.memory.count {
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(testCase.memory[offset + b]) << (8 * UInt64(b)) }
            result.append("mem[\(offset)]=0x\(Harness.hex(v))")
        }
        return result
    }

    func keep(_ failure: inout Failure, _ testCase: TestCase) {
        guard let keepDirectory = configuration.keepDirectory else { return }
        do {
            try FileManager.default.createDirectory(at: keepDirectory, withIntermediateDirectories: true)
            let url = keepDirectory.appendingPathComponent("seed-\(testCase.seed).S")
            try Harness.assembly(for: [testCase], options: Harness.Options(dumpMemory: true))
                .write(to: url, atomically: true, encoding: .utf8)
            try Harness.linkerScript.write(to: keepDirectory.appendingPathComponent("link.ld"), atomically: true, encoding: .utf8)
            failure.keptFiles.append(url.path)
        } catch {
            failure.notes.append("could not keep the failing case: \(error)")
        }
    }

    /// Runs several cases in one ELF on both emulators and compares each (used by the minimiser).
    func compareBatch(_ cases: [TestCase], name: String, dumpMemory: Bool = false) throws -> [CaseComparison] {
        let directory = workRoot.appendingPathComponent(name)
        defer { try? FileManager.default.removeItem(at: directory) }
        let elf = try toolchain.build(source: Harness.assembly(for: cases, options: Harness.Options(dumpMemory: dumpMemory)),
                                      in: directory, name: "m")
        let referenceRun = ParsedRun(try reference.run(elf: elf).text)
        let subjectRun = ParsedRun(try subject.run(elf: elf).text)
        return cases.indices.map { Differ.compare(index: $0, reference: referenceRun, actual: subjectRun) }
    }

    func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }
}

private final class SharedState: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var combined = SoakReport()

    func nextIndex(limit: Int) -> Int? {
        lock.withLock {
            guard next < limit else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func add(_ result: SoakReport) -> SoakReport {
        lock.withLock {
            combined.passed += result.passed
            combined.failures += result.failures
            return combined
        }
    }

    var report: SoakReport { lock.withLock { combined } }
}

/// Removes chunks of a failing case while the mismatch persists (same kind: trap vs state),
/// testing many candidates per ELF so that each round costs a single QEMU start.
struct Minimizer {
    let suite: ConformanceSuite
    var maxRounds = 200
    var candidatesPerRound = 48

    struct Result { var testCase: TestCase; var comparison: CaseComparison }

    static func signature(_ comparison: CaseComparison) -> String? {
        guard case .mismatch(let differences, let notes) = comparison else { return nil }
        if let trap = notes.first(where: { $0.hasPrefix("Lockstep trapped") }) {
            return trap.components(separatedBy: " mepc").first
        }
        if notes.contains(where: { $0.hasPrefix("Lockstep produced no") }) { return "no dump" }
        return differences.isEmpty ? nil : "state"
    }

    func minimize(_ original: TestCase, originalComparison: CaseComparison) -> Result? {
        // Reproduce alone first, with a full memory dump for the report.
        guard let first = try? suite.compareBatch([original], name: suite.uniqueName("repro"), dumpMemory: true).first,
              let wanted = Self.signature(first) else { return nil }
        var rounds = 0
        // Phase 1: whole chunks (an instruction with its operand set-up).
        var current = reduce(Result(testCase: original, comparison: first), wanted: wanted, rounds: &rounds)
        // Phase 2: single lines, except the address computations that keep memory accesses in bounds.
        var exploded = current.testCase
        exploded.chunks = current.testCase.chunks.flatMap { chunk in
            chunk.lines.map { line in
                var single = Chunk(lines: [line], spDelta: chunk.spDelta, spAccess: chunk.spAccess)
                if line.hasSuffix(":") { single.defines = chunk.defines }
                if let target = chunk.references, line.contains(target) { single.references = target }
                return single
            }
        }
        current = reduce(Result(testCase: exploded, comparison: current.comparison), wanted: wanted, rounds: &rounds)
        // Final run with the memory dump, so memory differences are shown word by word.
        if let final = try? suite.compareBatch([current.testCase], name: suite.uniqueName("final"), dumpMemory: true).first,
           Self.signature(final) == wanted {
            current.comparison = final
        }
        return current
    }

    /// Lines that must stay: they compute the addresses that keep memory accesses inside the scratch page.
    static func isPinned(_ chunk: Chunk) -> Bool {
        guard chunk.lines.count == 1, let line = chunk.lines.first else { return false }
        if line.hasPrefix("la ") || (line.hasPrefix("addi ") && line.contains(", x8, ")) { return true }
        // `addi t, t, -16` before `jalr rd, 16(t)`.
        let tokens = line.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        return tokens.count == 4 && tokens[0] == "addi" && tokens[1] == tokens[2] && tokens[3] == "-16"
    }

    /// Delta-debugging style reduction: remove runs of chunks, halving the run length when nothing
    /// can be removed, while the mismatch keeps its signature.
    func reduce(_ start: Result, wanted: String, rounds: inout Int) -> Result {
        var current = start
        var size = max(1, current.testCase.chunks.count / 2)
        while rounds < maxRounds && !current.testCase.chunks.isEmpty {
            var candidates: [TestCase] = []
            var index = 0
            while index < current.testCase.chunks.count {
                var candidate = current.testCase
                let range = index..<min(index + size, candidate.chunks.count)
                let kept = candidate.chunks[range].filter(Self.isPinned)
                candidate.chunks.replaceSubrange(range, with: kept)
                if candidate.chunks.count < current.testCase.chunks.count && candidate.isWellFormed {
                    candidates.append(candidate)
                }
                index += size
            }
            var improved = false
            for group in stride(from: 0, to: candidates.count, by: candidatesPerRound) {
                let slice = Array(candidates[group..<min(group + candidatesPerRound, candidates.count)])
                rounds += 1
                guard let comparisons = try? suite.compareBatch(slice, name: suite.uniqueName("min")) else { continue }
                if let hit = comparisons.firstIndex(where: { Self.signature($0) == wanted }) {
                    current = Result(testCase: slice[hit], comparison: comparisons[hit])
                    improved = true
                    break
                }
            }
            if !improved {
                if size == 1 { break }
                size = max(1, size / 2)
            } else {
                size = min(size, max(1, current.testCase.chunks.count / 2))
            }
        }
        return current
    }
}
