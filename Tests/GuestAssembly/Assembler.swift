import Foundation
import Machine

/// Assembles RISC-V source with Debian's cross assembler (the reference encoder) into raw bytes
/// linked at RAM base, for small hand-written hart tests (RISCVTests, JITTests).
public enum Assembler {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// Macros every test program may use: EXIT powers the machine off through the test device.
    public static let prelude = """
        .option norelax
        .macro EXIT
            li t6, 0x100000
            li t5, 0x5555
            sw t5, 0(t6)
        1:  j 1b
        .endm
        .section .text
        .globl _start
        _start:

        """

    public static func assemble(_ source: String) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-asm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sourceFile = directory.appendingPathComponent("t.S")
        try (prelude + source + "\n").write(to: sourceFile, atomically: true, encoding: .utf8)
        let elf = directory.appendingPathComponent("t.elf").path
        let binary = directory.appendingPathComponent("t.bin").path
        try run("riscv64-linux-gnu-gcc", ["-march=rv64gc", "-mabi=lp64d", "-nostdlib", "-nostartfiles", "-static",
                                          "-fno-pie", "-no-pie", "-Wl,--build-id=none", "-Wl,-Ttext=0x80000000",
                                          "-o", elf, sourceFile.path])
        try run("riscv64-linux-gnu-objcopy", ["-O", "binary", elf, binary])
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: binary)))
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let errors = Pipe()
        process.standardError = errors
        do { try process.run() } catch {
            throw Failure(description: "cannot run \(tool): install gcc-riscv64-linux-gnu (scripts/install-deps.sh does)")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: process.terminationStatus == 127
                          ? "\(tool) not found: install gcc-riscv64-linux-gnu (scripts/install-deps.sh does)"
                          : "\(tool) failed: \(message)")
        }
    }

    /// Assembles `source`, runs it on a fresh machine until it exits, and returns the machine.
    public static func run(_ source: String, limit: UInt64 = 1_000_000) throws -> Machine {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
        machine.memory.write(try assemble(source), at: MachineConfiguration.ramBase)
        let stop = machine.run(instructionLimit: limit)
        guard stop == .exited(code: 0) else { throw Failure(description: "program did not exit cleanly: \(stop)") }
        return machine
    }
}

/// ABI register numbers used in the tests.
public enum Reg {
    public static let ra = 1, sp = 2, t0 = 5, t1 = 6, t2 = 7, s0 = 8, s1 = 9, a0 = 10, a1 = 11, a2 = 12, a3 = 13, a4 = 14, a5 = 15
    public static let a6 = 16, a7 = 17, s2 = 18, s3 = 19, s4 = 20, s5 = 21, s6 = 22
}
