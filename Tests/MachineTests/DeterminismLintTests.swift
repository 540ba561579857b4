import Foundation
import Testing

/// The determinism contract, checked on the source: nothing under `Sources/RISCV` or
/// `Sources/Machine` may read the clock, a random source, a socket, the environment or a file.
/// Everything from outside enters as an input handed over by the machine's owner.
@Suite struct DeterminismLintTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Patterns that reach the host's time, randomness, files, sockets or environment.
    static let forbidden: [(pattern: String, what: String)] = [
        (#"import\s+(Foundation|Dispatch|FoundationEssentials)\b"#, "Foundation/Dispatch (clocks, files, randomness)"),
        (#"\b(clock_gettime|gettimeofday|time\(nil\)|mach_absolute_time)\b"#, "the host clock"),
        (#"\b(Date|ContinuousClock|SuspendingClock|DispatchTime)\b"#, "the host clock"),
        (#"\.random\(|SystemRandomNumberGenerator|arc4random|getrandom"#, "host randomness"),
        (#"\b(socket|accept|recv|recvfrom|sendto|fopen|pread|pwrite|getenv)\s*\("#, "sockets, files or the environment"),
        (#"\bconnect\s*\((?!to\b)"#, "sockets"),
        (#"\bopen\s*\(\s*[^)]*O_(RDONLY|WRONLY|RDWR)"#, "files"),
        (#"\b(FileManager|FileHandle|ProcessInfo|Process)\b"#, "files, processes or the environment"),
    ]

    static func sourceFiles(in module: String) throws -> [URL] {
        let directory = root.appendingPathComponent("Sources/\(module)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return names.filter { $0.hasSuffix(".swift") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Lines of `text` matching a forbidden pattern, comments excluded.
    static func violations(in text: String, file: String) throws -> [String] {
        var found: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            for (pattern, what) in forbidden where code.range(of: pattern, options: .regularExpression) != nil {
                found.append("\(file):\(number + 1): \(what): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        return found
    }

    @Test(arguments: ["RISCV", "Machine"])
    func moduleReadsNothingFromTheHost(module: String) throws {
        let files = try Self.sourceFiles(in: module)
        #expect(!files.isEmpty)
        var found: [String] = []
        for file in files {
            found += try Self.violations(in: String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent)
        }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    /// The lint can fail: each kind of host access is caught.
    @Test func catchesHostAccess() throws {
        let samples = [
            "import Foundation", "let t = Date()", "var g = SystemRandomNumberGenerator()",
            "let x = UInt64.random(in: 0...9)", "clock_gettime(CLOCK_MONOTONIC, &ts)",
            "let fd = socket(AF_INET, SOCK_STREAM, 0)", "let f = open(path, O_RDONLY)",
            "let h = FileHandle.standardInput", "let v = getenv(\"HOME\")", "connect(fd, &address, length)",
        ]
        for sample in samples {
            #expect(try !Self.violations(in: sample, file: "sample").isEmpty, "not caught: \(sample)")
        }
        #expect(try Self.violations(in: "func read(offset: UInt64, size: Int) -> UInt64 // open(x, O_RDONLY)", file: "ok").isEmpty)
        #expect(try Self.violations(in: "plic.connect(to: hart)", file: "ok").isEmpty)
    }
}
