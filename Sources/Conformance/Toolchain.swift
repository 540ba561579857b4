// External tools: the RISC-V cross assembler/linker and QEMU, run as subprocesses.

import Foundation

public enum ConformanceError: Error, CustomStringConvertible, Sendable {
    case toolMissing(tool: String, package: String)
    case assemblyFailed(String)
    case processFailed(String)
    case timedOut(String)
    case emulatorFailed(String)
    /// The JIT and the interpreter differ on a program (the lockstep checker's first difference).
    case enginesDiffer(String)

    public var description: String {
        switch self {
        case .toolMissing(let tool, let package):
            return "`\(tool)` was not found in PATH. Install it with `apt-get install \(package)` (Debian/Ubuntu package \(package))."
        case .assemblyFailed(let message): return "assembly failed: \(message)"
        case .processFailed(let message): return message
        case .timedOut(let message): return "timed out: \(message)"
        case .emulatorFailed(let message): return message
        case .enginesDiffer(let message):
            return "the JIT and the interpreter differ: \(message) (reproduce with lockstep-conformance --check-engines --seeds 1 --first-seed SEED --batch 1)"
        }
    }
}

public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: String
    public var timedOut: Bool
    /// True when the process was killed by a signal (crash), in which case `status` is the signal.
    public var crashed: Bool = false
}

public enum Subprocess {
    /// Finds an executable in PATH (or an absolute path given by an environment override).
    public static func find(_ name: String, override variable: String? = nil) -> URL? {
        let environment = ProcessInfo.processInfo.environment
        if let variable, let path = environment[variable], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? URL(fileURLWithPath: path) : nil
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = String(directory) + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }

    /// Runs a process to completion with stdout captured through a temporary file (no pipe-buffer
    /// deadlocks for large outputs) and a wall-clock timeout after which it is killed.
    public static func run(_ executable: URL, _ arguments: [String], timeout: Double,
                           workingDirectory: URL? = nil) throws -> ProcessResult {
        let temporary = FileManager.default.temporaryDirectory
        let token = UUID().uuidString
        let outURL = temporary.appendingPathComponent("lockstep-conf-\(token).out")
        let errURL = temporary.appendingPathComponent("lockstep-conf-\(token).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            try? outHandle.close(); try? errHandle.close()
            throw ConformanceError.processFailed("cannot start \(executable.path): \(error)")
        }
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            if finished.wait(timeout: .now() + 2) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                finished.wait()
            }
        }
        try? outHandle.close(); try? errHandle.close()
        let stdout = (try? Data(contentsOf: outURL)) ?? Data()
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut,
                             crashed: process.terminationReason == .uncaughtSignal)
    }
}

/// The RISC-V cross toolchain (`riscv64-linux-gnu-gcc` from Debian's gcc-riscv64-linux-gnu).
public struct Toolchain: Sendable {
    public let gcc: URL

    public init() throws {
        guard let gcc = Subprocess.find("riscv64-linux-gnu-gcc", override: "LOCKSTEP_RISCV_GCC") else {
            throw ConformanceError.toolMissing(tool: "riscv64-linux-gnu-gcc", package: "gcc-riscv64-linux-gnu")
        }
        self.gcc = gcc
    }

    /// Assembles and links `source` into `directory/name.elf` (also writing `name.S` and `link.ld`).
    @discardableResult
    public func build(source: String, in directory: URL, name: String) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sourceURL = directory.appendingPathComponent("\(name).S")
        let scriptURL = directory.appendingPathComponent("link.ld")
        let elfURL = directory.appendingPathComponent("\(name).elf")
        try source.write(to: sourceURL, atomically: true, encoding: .utf8)
        try Harness.linkerScript.write(to: scriptURL, atomically: true, encoding: .utf8)
        let result = try Subprocess.run(gcc, [
            "-march=rv64gc", "-mabi=lp64d", "-mno-relax", "-nostdlib", "-nostartfiles", "-static",
            "-fno-pie", "-no-pie", "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments",
            "-T", scriptURL.path, sourceURL.path, "-o", elfURL.path,
        ], timeout: 120)
        guard result.status == 0, !result.timedOut else {
            throw ConformanceError.assemblyFailed("\(sourceURL.path): \(result.stderr.prefix(4000))")
        }
        return elfURL
    }
}
