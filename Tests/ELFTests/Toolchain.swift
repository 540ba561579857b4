import Foundation
import Testing

/// Failure of the external RISC-V toolchain, with what to do about it.
struct ToolchainError: Error, CustomStringConvertible {
    let description: String
}

/// Builds RISC-V programs with riscv64-linux-gnu-gcc and describes them with
/// riscv64-linux-gnu-readelf, the reference the parser is compared against.
///
/// A missing toolchain is a test failure (not a skip): these tests are the parser's ground truth.
enum Toolchain {
    static let compiler = "riscv64-linux-gnu-gcc"
    static let readelf = "riscv64-linux-gnu-readelf"
    static let strip = "riscv64-linux-gnu-strip"

    /// The flags the brief prescribes for Lockstep programs (plus -mcmodel=medany, which code
    /// linked at 0x80000000 needs to reach its data).
    static let flags = [
        "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-nostdlib", "-static", "-fno-pie", "-no-pie",
        "-Wl,--build-id=none", "-Wl,-Ttext=0x80000000",
    ]

    /// A C program with code, initialized data, .bss, a local and a weak symbol.
    static let program = """
        volatile unsigned long counter = 42;
        unsigned long scratch[64];
        static unsigned long hidden_total;
        __attribute__((weak)) unsigned long tunable = 3;
        static void accumulate(unsigned long x) { hidden_total += x; }
        void helper(void) { scratch[0] = counter; accumulate(counter + tunable); }
        void _start(void) { helper(); for (;;) {} }
        """

    /// Files built once per test run, shared by all tests.
    struct Fixtures: Sendable {
        let directory: URL
        /// The program built with `flags`.
        let program: URL
        /// The same program after riscv64-linux-gnu-strip.
        let stripped: URL
        /// The bytes of `program`.
        let bytes: [UInt8]
    }

    /// Built on first use; every test that needs the toolchain goes through `fixtures()`.
    private static let built: Result<Fixtures, ToolchainError> = Result { () throws(ToolchainError) in
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("lockstep-elf-tests-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try program.write(to: directory.appendingPathComponent("program.c"), atomically: true, encoding: .utf8)
        } catch {
            throw ToolchainError(description: "cannot create a temporary directory: \(error)")
        }
        let output = directory.appendingPathComponent("program.elf")
        try run(compiler, flags + ["-O1", "-o", output.path, directory.appendingPathComponent("program.c").path])
        let stripped = directory.appendingPathComponent("program-stripped.elf")
        try run(strip, ["-o", stripped.path, output.path])
        guard let data = FileManager.default.contents(atPath: output.path) else {
            throw ToolchainError(description: "the compiler produced no file at \(output.path)")
        }
        return Fixtures(directory: directory, program: output, stripped: stripped, bytes: [UInt8](data))
    }

    /// The shared fixtures, or a thrown error (failing the calling test) saying to install the toolchain.
    static func fixtures() throws -> Fixtures {
        try built.get()
    }

    /// Runs `tool` with `arguments` (looked up on PATH) and returns its standard output;
    /// a missing tool or a non-zero exit throws.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws(ToolchainError) -> String {
        guard let executable = find(tool) else {
            throw ToolchainError(description: "\(tool) is not installed (not found on PATH); install it with "
                + "`apt-get install gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu`")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw ToolchainError(description: "cannot run \(executable): \(error)")
        }
        // Read before waiting so a large output cannot fill the pipe and block the tool.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolchainError(description: "\(tool) \(arguments.joined(separator: " ")) failed with status "
                + "\(process.terminationStatus):\n\(String(decoding: stderr, as: UTF8.self))")
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// Compiles `source` (C) with `extraFlags` into `name` in the fixtures directory.
    static func compile(_ source: String, name: String, flags extraFlags: [String],
                        libraries: [String] = []) throws -> URL {
        let directory = try fixtures().directory
        let sourceURL = directory.appendingPathComponent("\(name).c")
        try source.write(to: sourceURL, atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent(name)
        try run(compiler, extraFlags + ["-o", output.path, sourceURL.path] + libraries)
        return output
    }

    private static func find(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
