import FaultInjection
import Foundation
import KVWorkload
import LockstepSupport

/// A test's own redis-server (Debian's `redis-server` package) on a free loopback port, without
/// persistence (`--save "" --appendonly no`), killed when the test is done.
final class RedisServer: @unchecked Sendable {
    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    let endpoint: Endpoint
    let directory: URL
    private var process: Process

    /// Starts a server on a free port (on `port` when given) and waits until it answers PING.
    init(port: Int? = nil) throws {
        let executable = try Self.executable()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lastLog = ""
        for _ in 0..<5 {
            let candidate = try port ?? TestPorts.reserve()
            let endpoint = Endpoint(host: "127.0.0.1", port: UInt16(candidate))
            let process = try Self.start(executable, port: candidate, directory: directory)
            if Self.waitForPing(endpoint, process: process, seconds: 10) {
                self.endpoint = endpoint
                self.process = process
                return
            }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            lastLog = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
            if port != nil { break }
        }
        try? FileManager.default.removeItem(at: directory)
        throw SetupError(description: "redis-server did not start; its log:\n\(lastLog)")
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGKILL, as when the server's host dies.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Starts the server again on the same port (after ``kill()``), empty.
    func restart() throws {
        kill()
        let process = try Self.start(try Self.executable(), port: Int(endpoint.port), directory: directory)
        guard Self.waitForPing(endpoint, process: process, seconds: 10) else {
            throw SetupError(description: "redis-server did not start again on \(endpoint)")
        }
        self.process = process
    }

    /// SIGSTOP: the server stalls with its connections open; ``thaw()`` resumes it.
    func freeze() { Foundation.kill(process.processIdentifier, SIGSTOP) }

    func thaw() { Foundation.kill(process.processIdentifier, SIGCONT) }

    /// A new client connection.
    func client(requestTimeout: Double = 5) throws -> RedisClient {
        try RedisClient(endpoint: endpoint, requestTimeout: requestTimeout)
    }

    private static func executable() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in ["/usr/bin", "/usr/local/bin"] + path.split(separator: ":").map(String.init) {
            let candidate = directory + "/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw SetupError(description: "redis-server not found: install redis-server (scripts/install-deps.sh does)")
    }

    private static func start(_ executable: String, port: Int, directory: URL) throws -> Process {
        let log = directory.appendingPathComponent("redis.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--protected-mode", "no", "--dir", directory.path, "--loglevel", "warning"]
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    private static func waitForPing(_ endpoint: Endpoint, process: Process, seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline, process.isRunning {
            if let client = try? RedisClient(endpoint: endpoint, connectTimeout: 1, requestTimeout: 1), (try? client.ping()) == "PONG" {
                client.close()
                return true
            }
            usleep(20_000)
        }
        return false
    }
}

/// Waits until `condition` holds, `seconds` at most; true if it did.
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}
