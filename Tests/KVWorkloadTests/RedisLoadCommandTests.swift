import Foundation
import KVWorkload
import Testing

/// `lockstep-kv redis-load` as a separate process, as the failover tests run it: its exit status
/// and its JSON summary.
@Suite struct RedisLoadCommandTests {
    /// Where the built `lockstep-kv` is: next to this test bundle.
    static func executable() -> String {
        var url = URL(fileURLWithPath: CommandLine.arguments.first ?? "")
        while url.path != "/" {
            let candidate = url.deletingLastPathComponent().appendingPathComponent("lockstep-kv")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            url = url.deletingLastPathComponent()
        }
        return ".build/debug/lockstep-kv"
    }

    /// A started `lockstep-kv redis-load` writing its JSON summary to a temporary file.
    struct Run {
        let process = Process()
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-redis-load-\(UUID().uuidString).json")
        let output = Pipe()

        init(_ server: RedisServer, duration: Double, extra: [String] = []) throws {
            process.executableURL = URL(fileURLWithPath: RedisLoadCommandTests.executable())
            process.arguments = ["redis-load", "--endpoint", server.endpoint.description, "--duration", "\(duration)",
                                 "--json", json.path, "--quiet", "--keys", "100"] + extra
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output
            process.standardError = output
            try process.run()
        }

        /// Waits for the exit (10 s at most); the status, the output and the summary.
        func finish() throws -> (status: Int32, output: String, summary: RedisWriterSummary?) {
            let deadline = Date(timeIntervalSinceNow: 10)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                process.terminate()
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            defer { try? FileManager.default.removeItem(at: json) }
            let summary = (try? Data(contentsOf: json)).flatMap { try? RedisWriterSummary(json: $0) }
            return (process.terminationStatus, text, summary)
        }
    }

    @Test func aCleanRunExitsZeroWithItsSummary() throws {
        let server = try RedisServer()
        let run = try Run(server, duration: 0.5, extra: ["--prefix", "cli"])
        let (status, output, summary) = try run.finish()
        #expect(status == 0, "\(output)")
        #expect(output.contains("PASSED"))
        let json = try #require(summary, "\(output)")
        #expect(json.passed && json.connectionKept && json.verified)
        #expect(json.prefix == "cli" && json.keys == 100)
        #expect(json.acknowledgedWrites > 50)
    }

    @Test func sigtermEndsTheWritesThenVerifies() throws {
        let server = try RedisServer()
        let run = try Run(server, duration: 120)
        let client = try server.client()
        #expect(waitUntil(seconds: 20) { ((try? client.dbSize()) ?? 0) >= 100 })
        kill(run.process.processIdentifier, SIGTERM)
        let (status, output, summary) = try run.finish()
        #expect(status == 0, "\(output)")
        #expect(output.contains("stopped by a signal"))
        let json = try #require(summary, "\(output)")
        #expect(json.passed && json.seconds < 60)
        #expect(json.keysVerified == 100)
    }

    @Test func aKilledServerExitsOneWithTheConnectionLost() throws {
        let server = try RedisServer()
        let run = try Run(server, duration: 120, extra: ["--connect-timeout", "1"])
        let client = try server.client()
        #expect(waitUntil(seconds: 20) { ((try? client.dbSize()) ?? 0) >= 50 })
        server.kill()
        let (status, output, summary) = try run.finish()
        #expect(status == 1, "\(output)")
        #expect(output.contains("connection kept:     NO"))
        let json = try #require(summary, "\(output)")
        #expect(!json.connectionKept && !json.passed)
        #expect(json.errorKind == .connectionReset || json.errorKind == .closedByPeer)
        #expect(json.errorAfterSeconds != nil)
    }

    @Test func invalidArgumentsAreRefused() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable())
        process.arguments = ["redis-load", "--endpoint", "127.0.0.1:0", "--duration", "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 64)
    }
}
