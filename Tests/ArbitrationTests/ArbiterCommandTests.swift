@testable import Arbitration
import Foundation
import Synchronization
import Testing

/// `lockstep arbiter` as an operator runs it: a real server process killed with SIGKILL and
/// restarted, separate claimer processes on one lock file, and its messages.
@Suite struct ArbiterCommandTests {
    /// The `lockstep` binary built next to this test bundle.
    static var lockstep: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("lockstep").path), directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("lockstep").path
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Starts `lockstep` with `arguments`; `wait()` collects its output and status.
    final class Command: Sendable {
        let process = Process()
        private let output = Pipe(), errors = Pipe()

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: ArbiterCommandTests.lockstep)
            process.arguments = arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        func wait() -> Outcome {
            let stdout = output.fileHandleForReading.readDataToEndOfFile()
            let stderr = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                           stderr: String(decoding: stderr, as: UTF8.self))
        }
    }

    static func lockstep(_ arguments: [String]) throws -> Outcome {
        try Command(arguments).wait()
    }

    /// A `lockstep arbiter --listen` process, ready once it printed its listening line.
    final class ServerProcess {
        let process = Process()
        let port: UInt16
        private let errors = Pipe()

        struct NotReady: Error, CustomStringConvertible {
            let stderr: String
            var description: String { "lockstep arbiter did not say it listens; its standard error:\n\(stderr)" }
        }

        init(state: String, keyFile: String) throws {
            process.executableURL = URL(fileURLWithPath: ArbiterCommandTests.lockstep)
            process.arguments = ["arbiter", "--listen", "127.0.0.1:0", "--state", state, "--key-file", keyFile]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            // Read standard error up to the first line; it names the port the system chose.
            var line: [UInt8] = []
            let handle = errors.fileHandleForReading
            while line.last != UInt8(ascii: "\n") {
                guard let byte = try handle.read(upToCount: 1), !byte.isEmpty else { break }
                line += byte
            }
            let text = String(decoding: line, as: UTF8.self)
            let prefix = "lockstep arbiter: listening on 127.0.0.1:"
            guard text.hasPrefix(prefix), let port = UInt16(text.dropFirst(prefix.count).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                process.terminate()
                throw NotReady(stderr: text)
            }
            self.port = port
            Thread { _ = handle.readDataToEndOfFile() }.start()   // the log that follows, so the pipe never fills
        }

        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test func theServerRemembersGenerationsAcrossASIGKILL() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let keyFile = directory.file("key")
        try Data("the cluster's secret\n".utf8).write(to: URL(fileURLWithPath: keyFile))
        let state = directory.file("arbiter.state")

        let first = try ServerProcess(state: state, keyFile: keyFile)
        let arbiter = RemoteArbiter(host: "127.0.0.1", port: first.port, key: testKey)
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 1, owner: "node-b") == .won(generation: 2))
        let shown = try Self.lockstep(["arbiter", "--show", "vm1", "--connect", "127.0.0.1:\(first.port)", "--key-file", keyFile])
        #expect(shown.status == 0)
        #expect(shown.stdout == "vm1: generation 2, owner node-b\n")
        first.kill()
        #expect(first.process.terminationReason == .uncaughtSignal)

        let second = try ServerProcess(state: state, keyFile: keyFile)
        defer { second.kill() }
        let again = RemoteArbiter(host: "127.0.0.1", port: second.port, key: testKey)
        #expect(try await again.current(vm: "vm1") == (2, "node-b"))
        #expect(try await again.claim(vm: "vm1", expectedGeneration: 1, owner: "node-a") == .lost(generation: 2, owner: "node-b"))
        let claimed = try Self.lockstep(["arbiter", "--claim", "vm1", "--expected", "2", "--owner", "node-a",
                                         "--connect", "127.0.0.1:\(second.port)", "--key-file", keyFile])
        #expect(claimed.status == 0)
        #expect(claimed.stdout == "vm1: won generation 3\n")
    }

    @Test func separateProcessesClaimingOneLockFileHaveExactlyOneWinner() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let lockFile = directory.file("vms.lock")
        for round in 0..<2 {
            // Hold the lock until every claimer process waits for it, so that they all go at once.
            let gate = try SystemFile(path: lockFile, flags: O_RDWR | O_CREAT)
            try gate.lock(exclusive: true, wait: true)
            let claimers = try (0..<8).map { index in
                try Command(["arbiter", "--claim", "vm1", "--expected", "\(round)", "--owner", "process-\(round)-\(index)", "--lock-file", lockFile])
            }
            try await waitForBlockedLocks(on: lockFile, count: claimers.count)
            gate.unlock()

            let outcomes = claimers.map { $0.wait() }
            let winners = outcomes.filter { $0.status == 0 }
            try #require(winners.count == 1, "\(outcomes.map(\.stdout))")
            #expect(winners[0].stdout == "vm1: won generation \(round + 1)\n")
            let winner = try #require(claimers.first { $0.process.terminationStatus == 0 }?.process.arguments?[6])
            for outcome in outcomes where outcome.status != 0 {
                #expect(outcome.status == 3)
                #expect(outcome.stdout == "vm1: lost: generation \(round + 1), owner \(winner)\n")
            }
        }
        let shown = try Self.lockstep(["arbiter", "--show", "vm1", "--lock-file", lockFile])
        #expect(shown.stdout.hasPrefix("vm1: generation 2, owner process-1-"))
    }

    @Test func mistakesGetMessagesThatSayWhatToDo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let emptyKey = directory.file("empty-key")
        try Data().write(to: URL(fileURLWithPath: emptyKey))

        let missingKey = try Self.lockstep(["arbiter", "--listen", "127.0.0.1:0", "--state", directory.file("s"), "--key-file", directory.file("nope")])
        #expect(missingKey.status == 1)
        #expect(missingKey.stderr == "lockstep arbiter: \(directory.file("nope")): reading the shared key failed: No such file or directory\n")

        let empty = try Self.lockstep(["arbiter", "--listen", "127.0.0.1:0", "--state", directory.file("s"), "--key-file", emptyKey])
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("the key file \(emptyKey) is empty"))

        let badAddress = try Self.lockstep(["arbiter", "--show", "vm1", "--connect", "arbiter", "--key-file", emptyKey])
        #expect(badAddress.status == 1)
        #expect(badAddress.stderr.contains("'arbiter' is not HOST:PORT"))

        let closedPort = try RawSocket.closedPort()
        let keyFile = directory.file("key")
        try Data("k".utf8).write(to: URL(fileURLWithPath: keyFile))
        let unreachable = try Self.lockstep(["arbiter", "--show", "vm1", "--connect", "127.0.0.1:\(closedPort)", "--key-file", keyFile])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("lockstep arbiter: cannot reach the arbiter at 127.0.0.1:\(closedPort): Connection refused;"))

        let noMode = try Self.lockstep(["arbiter", "--lock-file", directory.file("l")])
        #expect(noMode.status != 0)
        #expect(noMode.stderr.contains("give exactly one of --listen, --show and --claim"))

        try Data("garbage".utf8).write(to: URL(fileURLWithPath: directory.file("bad.lock")))
        let corrupt = try Self.lockstep(["arbiter", "--show", "vm1", "--lock-file", directory.file("bad.lock")])
        #expect(corrupt.status == 1)
        #expect(corrupt.stderr.contains("\(directory.file("bad.lock")) is not a valid arbitration state file"))
    }
}
