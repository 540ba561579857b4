import Foundation
import Testing

/// GNU objdump as the reference disassembler: runs
/// `riscv64-linux-gnu-objdump -D -z -b binary -m riscv:rv64 -M no-aliases` on a raw binary
/// and returns its text for each instruction, normalised for comparison with ours.
struct ObjdumpReference {
    static let toolName = "riscv64-linux-gnu-objdump"
    static let arguments = ["-D", "-z", "-b", "binary", "-m", "riscv:rv64", "-M", "no-aliases"]

    /// One disassembled instruction from objdump's listing.
    struct Line {
        /// Offset of the instruction in the binary (objdump's pc for it).
        var address: UInt64
        /// The instruction bits as objdump printed them (hex, no spaces).
        var rawHex: String
        /// objdump's text with the normalisations of `normalise(_:)` applied.
        var text: String
        /// objdump's text exactly as printed (tabs shown as spaces).
        var original: String
    }

    let executable: URL

    /// Finds objdump on PATH, or records a failure telling how to install it.
    static func locate() -> ObjdumpReference? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(toolName)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return ObjdumpReference(executable: candidate)
            }
        }
        Issue.record("""
            \(toolName) was not found on PATH. These tests compare the disassembler with GNU \
            objdump and cannot run without it: install binutils-riscv64-linux-gnu \
            (e.g. `sudo apt-get install binutils-riscv64-linux-gnu`).
            """)
        return nil
    }

    /// objdump's version line, for failure messages.
    func version() throws -> String {
        let output = try run(["--version"])
        return output.split(separator: "\n").first.map(String.init) ?? "unknown version"
    }

    /// Disassembles `binary` and returns one line per instruction, in address order.
    func disassemble(_ binary: [UInt8]) throws -> [Line] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("lockstep-disasm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("code.bin")
        try Data(binary).write(to: file)
        let output = try run(Self.arguments + [file.path])
        return Self.parse(output)
    }

    private func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ObjdumpError(message: "\(executable.path) \(arguments.joined(separator: " ")) exited with "
                + "\(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses listing lines of the form `   1c:\t02c5f553          \tfadd.d\tfa0,fa1,fa2`.
    static func parse(_ listing: String) -> [Line] {
        var lines: [Line] = []
        for rawLine in listing.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = rawLine.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3,
                  let label = fields.first, label.hasSuffix(":"),
                  let address = UInt64(label.dropLast().trimmingCharacters(in: .whitespaces), radix: 16)
            else { continue }
            let rawHex = fields[1].filter { $0 != " " }
            let original = fields[2...].joined(separator: " ")
            lines.append(Line(address: address, rawHex: rawHex, text: normalise(original), original: original))
        }
        return lines
    }

    /// The normalisations applied to objdump's text before comparing it with ours:
    /// - whitespace: runs of spaces and tabs become one space, and the ends are trimmed;
    /// - invalid encodings: objdump prints `.2byte 0x…`, `.4byte 0x…` or `.insn …`; ours is `unknown`;
    /// - a trailing `# 0x…` address comment is dropped. objdump appends it to loads, stores,
    ///   `addi`, `jalr` etc. when it can compute the address from `zero`, `tp`, or an earlier
    ///   `lui`/`auipc` in the listing — cross-instruction state, not part of the instruction.
    static func normalise(_ text: String) -> String {
        var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if let hash = words.firstIndex(of: "#"), hash == words.count - 2,
           words[hash + 1].hasPrefix("0x") {
            words.removeLast(2)
        }
        if let first = words.first, first == ".2byte" || first == ".4byte" || first == ".insn" {
            return "unknown"
        }
        return words.joined(separator: " ")
    }
}

struct ObjdumpError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
