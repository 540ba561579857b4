import HostIO
import Foundation
import Machine

/// Locations of the repository and of the guests built by guests/build.sh.
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Path of a built guest; records a clear failure if it has not been built.
    static func guest(_ name: String) throws -> String {
        let path = root.appendingPathComponent("guests/out/\(name).elf").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestSetupError("guest \(name) is not built: run guests/build.sh (scripts/test.sh does)")
        }
        return path
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Output and exit of one run.
struct RunResult: Equatable {
    var output: [UInt8]
    var stop: Machine.StopReason
    var instructions: UInt64
    var text: String { String(decoding: output, as: UTF8.self) }
}

/// Runs an ELF on a fresh Lockstep machine in this process.
func runOnLockstep(_ path: String, limit: UInt64 = 2_000_000_000, memory: UInt64 = 64 << 20) throws -> RunResult {
    let machine = try Machine(configuration: MachineConfiguration(memorySize: memory))
    try machine.load(elfAt: path)
    var output: [UInt8] = []
    machine.routeConsole { output.append($0) }
    let stop = machine.run(instructionLimit: limit)
    return RunResult(output: output, stop: stop, instructions: machine.instructionCount)
}

/// Runs an ELF on QEMU's virt machine (the reference); returns its console output and exit code.
/// `extraArguments` add devices (for example virtio) to the command line.
func runOnQEMU(_ path: String, timeout: Int = 60, extraArguments: [String] = []) throws -> (output: [UInt8], exitCode: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["timeout", String(timeout), "qemu-system-riscv64", "-M", "virt", "-bios", "none",
                         "-nographic", "-monitor", "none", "-serial", "stdio", "-kernel", path] + extraArguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardInput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch {
        throw TestSetupError("cannot start qemu-system-riscv64 (install qemu-system-misc; scripts/install-deps.sh does): \(error)")
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus == 127 {
        throw TestSetupError("qemu-system-riscv64 not found: install qemu-system-misc (scripts/install-deps.sh does)")
    }
    return ([UInt8](data), process.terminationStatus)
}
