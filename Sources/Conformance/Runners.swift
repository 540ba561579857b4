// Running a harness ELF on an emulator and collecting its UART output.

import Foundation

public struct RunOutput: Sendable {
    /// Everything the program wrote to the UART.
    public var text: String
    /// Human-readable description of how the run ended.
    public var termination: String
    /// Whether the program powered off normally (exit code 0).
    public var exitedCleanly: Bool

    public init(text: String, termination: String, exitedCleanly: Bool) {
        self.text = text
        self.termination = termination
        self.exitedCleanly = exitedCleanly
    }
}

public protocol ProgramRunner: Sendable {
    var name: String { get }
    func run(elf: URL) throws -> RunOutput
}

/// The reference: `qemu-system-riscv64 -M virt -bios none` (Debian package qemu-system-misc).
public struct QEMURunner: ProgramRunner {
    public let name = "QEMU"
    public let executable: URL
    public var timeout: Double

    public init(timeout: Double = 120) throws {
        guard let qemu = Subprocess.find("qemu-system-riscv64", override: "LOCKSTEP_QEMU") else {
            throw ConformanceError.toolMissing(tool: "qemu-system-riscv64", package: "qemu-system-misc")
        }
        executable = qemu
        self.timeout = timeout
    }

    public func run(elf: URL) throws -> RunOutput {
        let result = try Subprocess.run(executable, [
            "-M", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "stdio",
            "-kernel", elf.path,
        ], timeout: timeout)
        let text = String(decoding: result.stdout, as: UTF8.self)
        if result.timedOut {
            throw ConformanceError.timedOut("QEMU did not finish \(elf.path) within \(timeout) s")
        }
        if result.status != 0 && text.isEmpty {
            throw ConformanceError.emulatorFailed("QEMU failed on \(elf.path) (status \(result.status)): \(result.stderr.prefix(2000))")
        }
        return RunOutput(text: text, termination: "exit status \(result.status)", exitedCleanly: result.status == 0)
    }
}

/// Runs another runner in a child process (normally `lockstep-conformance --run-lockstep ELF`), so
/// that a crash or a hang in the emulator under test becomes a reported failure instead of taking
/// the whole soak down. The child writes the UART output to stdout and a termination line to stderr,
/// and exits 0 only if the guest powered off cleanly.
public struct IsolatedRunner: ProgramRunner {
    public let name: String
    public let executable: URL
    public let arguments: [String]
    public var timeout: Double

    public init(name: String = "Lockstep (child process)", executable: URL, arguments: [String], timeout: Double = 300) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.timeout = timeout
    }

    public func run(elf: URL) throws -> RunOutput {
        let result = try Subprocess.run(executable, arguments + [elf.path], timeout: timeout)
        let text = String(decoding: result.stdout, as: UTF8.self)
        let stderrLines = result.stderr.split(separator: "\n").map(String.init)
        if result.timedOut {
            return RunOutput(text: text, termination: "\(name) killed after \(Int(timeout)) s (hang?)", exitedCleanly: false)
        }
        if result.crashed || result.status > 3 {
            let reason = stderrLines.first { $0.contains("Fatal error") || $0.contains("fatal error") || $0.contains("crashed") }
            return RunOutput(text: text, termination: "\(name) crashed (status \(result.status))\(reason.map { ": " + $0 } ?? "")",
                             exitedCleanly: false)
        }
        return RunOutput(text: text, termination: stderrLines.last ?? "status \(result.status)", exitedCleanly: result.status == 0)
    }

    /// The child side: runs Lockstep on `elf` and reports as described above, streaming the UART
    /// output line by line (so that the cases before a hang or crash are still compared).
    /// Returns the exit code.
    public static func childMain(runner: LockstepRunner, elf: String) -> Int32 {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        do {
            let output = try runner.run(elf: URL(fileURLWithPath: elf)) { byte in
                line.append(byte)
                if byte == 10 || line.count >= 4096 {
                    FileHandle.standardOutput.write(Data(line))
                    line.removeAll(keepingCapacity: true)
                }
            }
            FileHandle.standardOutput.write(Data(line))
            FileHandle.standardError.write(Data((output.termination + "\n").utf8))
            return output.exitedCleanly ? 0 : 3
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 2
        }
    }
}
