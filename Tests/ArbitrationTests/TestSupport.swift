@testable import Arbitration
import LockstepSupport
import Foundation
import Synchronization
import Testing

/// A fresh directory under the system's temporary directory, removed by ``remove()``.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-arbiter-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The lines an ``ArbiterServer`` logs, collected for assertions.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    var sink: @Sendable (String) -> Void { { [self] line in lines.withLock { $0.append(line) } } }

    var all: [String] { lines.withLock { $0 } }

    /// Waits (up to `seconds`) for a line containing `text`: the server logs a refusal while it
    /// closes the connection, so the client may see the close a moment earlier.
    func waitForLine(containing text: String, seconds: Double = 10) async -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let line = all.first(where: { $0.contains(text) }) { return line }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}

let testKey = try! SharedKey(bytes: Array("the cluster's secret".utf8))
let otherKey = try! SharedKey(bytes: Array("another cluster's secret".utf8))

/// A server on a free loopback port.
func startServer(statePath: String, key: SharedKey = testKey, log: LogLines = LogLines(),
                 clientTimeout: Duration = .seconds(10)) async throws -> ArbiterServer {
    try await ArbiterServer.start(listeningOn: Endpoint(host: "127.0.0.1", port: 0), statePath: statePath, key: key,
                                  clientTimeout: clientTimeout, log: log.sink)
}

/// A client of `server`.
func client(of server: ArbiterServer, key: SharedKey = testKey, timeout: Duration = .seconds(5)) -> RemoteArbiter {
    RemoteArbiter(host: server.address.host, port: server.address.port, key: key, timeout: timeout)
}

/// The error `body` throws; a test failure (and nil) if it returns.
func arbitrationError<T>(_ body: () async throws -> T) async -> ArbitrationError? {
    do {
        let value = try await body()
        Issue.record("expected an ArbitrationError, got \(value)")
    } catch let error as ArbitrationError {
        return error
    } catch {
        Issue.record("expected an ArbitrationError, got \(error)")
    }
    return nil
}

/// `count` random bytes.
func randomBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255) }
}

/// Returns once /proc/locks lists `count` requests waiting for a lock on `path`'s inode (records
/// an issue after 30 s).
func waitForBlockedLocks(on path: String, count: Int = 1) async throws {
    let inode = try #require(FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int)
    var waiting = 0
    for _ in 0..<1500 {
        let locks = try String(contentsOfFile: "/proc/locks", encoding: .utf8)
        waiting = locks.split(separator: "\n").filter { $0.contains(" -> ") && $0.contains(":\(inode) ") }.count
        if waiting >= count { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("\(waiting) of \(count) claims waited for the lock on \(path) within 30 s")
}
