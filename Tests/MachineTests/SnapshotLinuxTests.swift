import Foundation
@testable import Machine
import RISCV
import Testing

/// The default Linux guest snapshotted during boot and restored in a new process (the
/// `lockstep-snapshot-check` helper) ends exactly like an uninterrupted run: same console output,
/// same state hash at the same instruction count. Also with an incremental snapshot applied to
/// the restored base, and with console input typed at the shell after the restore.
@Suite(.serialized) struct SnapshotLinuxTests {
    /// Where the run ends: past the shell prompt (about 105M instructions) and a command typed there.
    static let end: UInt64 = 170_000_000
    /// When the command is typed.
    static let inputAt: UInt64 = 150_000_000
    static let input = "echo snapshot-ok; ls /\n"
    static let snapshotPoints: [UInt64] = [30_000_000, 70_000_000, 150_000_001]

    /// The cached images of the default guest (guests/linux/build.sh), as LinuxBootTests finds them.
    static func images() throws -> (kernel: LinuxImage, initrd: [UInt8]) {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
        let directory = cache + "/linux/current"
        var files: [[UInt8]] = []
        for name in ["Image", "initramfs.cpio.gz"] {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
                throw TestSetupError("\(directory)/\(name) is missing: run guests/linux/build.sh first (scripts/test.sh does)")
            }
            files.append([UInt8](data))
        }
        return (try LinuxImage(bytes: files[0]), files[1])
    }

    static func bootedMachine() throws -> Machine {
        let (kernel, initrd) = try images()
        let machine = try Machine(configuration: MachineConfiguration())
        try machine.bootLinux(kernel: kernel, initrd: initrd, commandLine: "console=ttyS0")
        return machine
    }

    /// The helper executable, next to the test bundle in the build directory.
    static var helper: String {
        get throws {
            var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            while directory.path != "/" {
                let candidate = directory.appendingPathComponent("lockstep-snapshot-check").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
            throw TestSetupError("lockstep-snapshot-check is not built next to the tests: run swift build --build-tests")
        }
    }

    struct ChildResult: Equatable {
        var instructions: UInt64
        var stop: String
        var hash: UInt64
        var output: [UInt8]
    }

    /// Runs the helper on snapshot files and parses what it prints.
    static func restoreInNewProcess(_ snapshot: String, apply: [String] = [], arguments extra: [String]) throws -> ChildResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try helper)
        process.arguments = ["restore", snapshot] + apply.flatMap { ["--apply", $0] } + extra
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSetupError("lockstep-snapshot-check failed (\(process.terminationStatus)): \(errorText)")
        }
        var fields: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            fields[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        guard let count = fields["instructions"].flatMap({ UInt64($0) }),
              let hash = fields["hash"].flatMap({ UInt64($0.dropFirst(2), radix: 16) }),
              let stop = fields["stop"], let output = fields["output"] else {
            throw TestSetupError("unexpected output from lockstep-snapshot-check: \(String(decoding: data, as: UTF8.self))")
        }
        var bytes: [UInt8] = []
        var index = output.startIndex
        while index < output.endIndex {
            let next = output.index(index, offsetBy: 2)
            bytes.append(UInt8(output[index..<next], radix: 16)!)
            index = next
        }
        return ChildResult(instructions: count, stop: stop, hash: hash, output: bytes)
    }

    @Test func restoredInANewProcessEndsLikeTheUninterruptedRun() throws {
        // The uninterrupted run: no stop before the input, none after.
        let reference = try Self.bootedMachine()
        var referenceOutput: [UInt8] = []
        reference.routeConsole { referenceOutput.append($0) }
        #expect(reference.run(instructionLimit: Self.inputAt) == .instructionLimit)
        reference.uart.receive(Array(Self.input.utf8))
        #expect(reference.run(instructionLimit: Self.end) == .instructionLimit)
        let referenceHash = reference.stateHash()
        let text = String(decoding: referenceOutput, as: UTF8.self)
        #expect(text.contains("~ # "), "Linux did not reach the shell prompt")
        #expect(text.contains("snapshot-ok"), "the shell did not run the command")

        // The snapshotted run: a full snapshot at each point; dirty tracking from the first point
        // on, so that each later point also gets an incremental snapshot on top of the previous.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-snapshots-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let machine = try Self.bootedMachine()
        var output: [UInt8] = []
        machine.routeConsole { output.append($0) }
        var outputAt: [UInt64: Int] = [:]
        var increments: [String] = []
        for (i, point) in Self.snapshotPoints.enumerated() {
            if point > Self.inputAt && machine.instructionCount <= Self.inputAt {
                #expect(machine.run(instructionLimit: Self.inputAt) == .instructionLimit)
                machine.apply(.consoleBytes(Array(Self.input.utf8)))
            }
            #expect(machine.run(instructionLimit: point) == .instructionLimit)
            outputAt[point] = output.count
            let full = try machine.saveSnapshot()
            try Data(full).write(to: directory.appendingPathComponent("full-\(point)"))
            if i > 0 {
                let incremental = try machine.saveIncrementalSnapshot()
                #expect(incremental.count < full.count)
                let path = directory.appendingPathComponent("increment-\(point)").path
                try Data(incremental).write(to: URL(fileURLWithPath: path))
                increments.append(path)
            }
            machine.startDirtyTracking()
        }
        #expect(machine.run(instructionLimit: Self.end) == .instructionLimit)
        #expect(output == referenceOutput, "snapshotting changed the run")
        #expect(machine.stateHash() == referenceHash)

        let pendingInput = ["--input", "\(Self.inputAt):\(Self.input.replacingOccurrences(of: "\n", with: "\\n"))"]
        for point in Self.snapshotPoints {
            let extra = (point <= Self.inputAt ? pendingInput : []) + ["--until", String(Self.end)]
            let child = try Self.restoreInNewProcess(directory.appendingPathComponent("full-\(point)").path, arguments: extra)
            #expect(child.instructions == Self.end)
            #expect(child.stop == "instructionLimit")
            #expect(child.hash == referenceHash, "restored at \(point) in a new process: state hash differs")
            #expect(child.output == Array(referenceOutput[outputAt[point]!...]), "restored at \(point): console output differs")
        }

        // The first full snapshot plus every incremental one = the last point.
        let last = Self.snapshotPoints.last!
        let chained = try Self.restoreInNewProcess(directory.appendingPathComponent("full-\(Self.snapshotPoints[0])").path,
                                                   apply: increments, arguments: ["--until", String(Self.end)])
        #expect(chained.hash == referenceHash, "base + incremental snapshots: state hash differs")
        #expect(chained.output == Array(referenceOutput[outputAt[last]!...]))
    }

    /// In this process: an incremental snapshot applied to a copy restored from the base gives the
    /// same state hash as the full snapshot taken at the same point, and applying it twice or to
    /// the wrong base is refused.
    @Test func incrementalOnTopOfBaseEqualsFull() throws {
        let machine = try Self.bootedMachine()
        #expect(machine.run(instructionLimit: 30_000_000) == .instructionLimit)
        let base = try machine.saveSnapshot()
        machine.startDirtyTracking()
        #expect(machine.run(instructionLimit: 45_000_000) == .instructionLimit)
        let incremental = try machine.saveIncrementalSnapshot()
        let full = try machine.saveSnapshot()
        let dirty = machine.memory.dirtyPages ?? []
        #expect(!dirty.isEmpty && dirty.count < machine.memory.pageCount / 2)

        let copy = try Machine(configuration: MachineConfiguration())
        try copy.restoreSnapshot(base)
        try copy.restoreSnapshot(incremental)
        let fromFull = try Machine(configuration: MachineConfiguration())
        try fromFull.restoreSnapshot(full)
        #expect(copy.stateHash() == machine.stateHash())
        #expect(fromFull.stateHash() == machine.stateHash())

        // Applying it again: the machine is no longer in the base state.
        #expect(throws: SnapshotError.self) { try copy.restoreSnapshot(incremental) }
        do {
            try copy.restoreSnapshot(incremental)
        } catch {
            guard case .baseMismatch = error else { Issue.record("expected baseMismatch, got \(error)"); return }
        }
        #expect(copy.stateHash() == machine.stateHash(), "a refused snapshot changed the machine")
    }
}
