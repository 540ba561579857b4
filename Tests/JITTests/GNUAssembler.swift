import Foundation
import Testing

/// GNU `as` (binutils) as the reference encoder: assembles Intel-syntax text and gives the bytes
/// of `.text` and the offsets of its labels.
enum GNUAssembler {
    /// Whether `as`, `objcopy` and `nm` are on the PATH of an x86-64 host (elsewhere `as`
    /// assembles for the host's architecture).
    static let isAvailable = HostArchitecture.isX86_64 && ["as", "objcopy", "nm"].allSatisfy { tool in
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }
    }

    static let missingMessage: Comment = "needs an x86-64 host with GNU as, objcopy and nm (Debian's binutils): run scripts/install-deps.sh"

    /// The failure of a tool, with its error output.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Assembles `source` (a complete `.intel_syntax noprefix` file) for x86-64 and returns the
    /// bytes of `.text` and the offset of every symbol defined in it.
    static func assemble(_ source: String) throws -> (text: [UInt8], symbols: [String: Int]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-x86-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sourceFile = directory.appendingPathComponent("cases.s")
        let object = directory.appendingPathComponent("cases.o")
        let binary = directory.appendingPathComponent("cases.bin")
        try source.write(to: sourceFile, atomically: true, encoding: .utf8)
        _ = try run("as", ["--64", "-o", object.path, sourceFile.path], in: directory)
        _ = try run("objcopy", ["-O", "binary", "--only-section=.text", object.path, binary.path], in: directory)
        let symbolTable = try run("nm", ["--defined-only", object.path], in: directory)
        var symbols: [String: Int] = [:]
        for line in symbolTable.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let value = Int(fields[0], radix: 16) else { continue }
            symbols[String(fields[2])] = value
        }
        return ([UInt8](try Data(contentsOf: binary)), symbols)
    }

    /// Runs `tool` from the PATH and returns its standard output; throws with the start of its
    /// standard error (kept in a file in `directory`, so that it can be long) if it fails.
    private static func run(_ tool: String, _ arguments: [String], in directory: URL) throws -> String {
        let errorFile = directory.appendingPathComponent("\(tool).stderr")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let errors = try FileHandle(forWritingTo: errorFile)
        defer { try? errors.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = (try? Data(contentsOf: errorFile)) ?? Data()
            throw Failure(description: "\(tool) failed (status \(process.terminationStatus)): "
                + String(decoding: message.prefix(4000), as: UTF8.self))
        }
        return String(decoding: outputData, as: UTF8.self)
    }
}
