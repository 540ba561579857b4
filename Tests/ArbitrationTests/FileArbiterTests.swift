@testable import Arbitration
import Foundation
import Testing

/// The lock-file backend's own cases: files it did not write, and claimers on separate threads.
@Suite struct FileArbiterTests {
    @Test func aMissingOrEmptyLockFileMeansNeverClaimed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("vms.lock")
        #expect(try await FileArbiter(path: path).current(vm: "vm1") == (0, ""))
        #expect(!FileManager.default.fileExists(atPath: path), "asking must not create the file")

        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(try await FileArbiter(path: path).current(vm: "vm1") == (0, ""))
        #expect(try await FileArbiter(path: path).claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        #expect(try StateFileFormat.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: path))), path: path).current(vm: "vm1") == (1, "node-a"))
    }

    @Test func aDamagedLockFileIsATypedErrorAndIsLeftAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("vms.lock")
        let arbiter = FileArbiter(path: path)
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        #expect(try await arbiter.claim(vm: "vm2", expectedGeneration: 0, owner: "node-b") == .won(generation: 1))
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))

        // A torn rewrite: the first half of a new state over the old one.
        var torn = good
        let newer = StateFileFormat.encode(ClaimTable(entries: ["vm1": .init(generation: 2, owner: "node-b-with-a-longer-name")]))
        torn.replaceSubrange(0..<(newer.count / 2), with: newer[..<(newer.count / 2)])
        for damaged in [torn, Array(good.dropLast(5)), Array(repeating: 0x41, count: 100)] {
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            let error = await arbitrationError { try await arbiter.claim(vm: "vm1", expectedGeneration: 1, owner: "node-b") }
            guard case .corruptStateFile(let errorPath, _) = error else {
                Issue.record("expected corruptStateFile, got \(String(describing: error))")
                continue
            }
            #expect(errorPath == path)
            #expect(await arbitrationError { try await arbiter.current(vm: "vm2") }.map { if case .corruptStateFile = $0 { true } else { false } } == true)
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == damaged, "a claim changed a damaged file")
        }
    }

    @Test func aLockFileThatCannotBeOpenedIsAnIOErrorNamingIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("no-such-directory/vms.lock")
        #expect(await arbitrationError { try await FileArbiter(path: path).claim(vm: "vm1", expectedGeneration: 0, owner: "a") }
                == .fileFailed(path: path, operation: "open", errno: ENOENT))
        #expect(ArbitrationError.fileFailed(path: path, operation: "open", errno: ENOENT).description
                == "\(path): open failed: No such file or directory")
    }

    @Test func aLockExcludesOtherOpenFilesOfTheSameProcess() throws {
        // Classic POSIX record locks belong to the process, so two claimers in one process would
        // both get them; the file arbiter's locks belong to the open file.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try SystemFile(path: directory.file("vms.lock"), flags: O_RDWR | O_CREAT)
        let second = try SystemFile(path: directory.file("vms.lock"), flags: O_RDWR)
        #expect(try first.lock(exclusive: true, wait: true))
        #expect(try second.lock(exclusive: true, wait: false) == false)
        #expect(try second.lock(exclusive: false, wait: false) == false)
        first.unlock()
        #expect(try second.lock(exclusive: false, wait: false))
        #expect(try first.lock(exclusive: false, wait: false), "shared locks coexist")
        #expect(try first.lock(exclusive: true, wait: false) == false)
    }

    @Test func aClaimWaitsForTheLockAndThenSeesWhatItsHolderWrote() async throws {
        // Another claimer holds the lock; ours must wait for it (seen in /proc/locks as a blocked
        // request on the file), then read the state the holder wrote, and lose to it.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("vms.lock")
        let holder = try SystemFile(path: path, flags: O_RDWR | O_CREAT)
        try holder.lock(exclusive: true, wait: true)

        let claim = Task { try await FileArbiter(path: path).claim(vm: "vm1", expectedGeneration: 0, owner: "late") }
        try await waitForBlockedLocks(on: path)
        try holder.replaceContents(with: StateFileFormat.encode(ClaimTable(entries: ["vm1": .init(generation: 1, owner: "holder")])))
        holder.unlock()
        #expect(try await claim.value == .lost(generation: 1, owner: "holder"))
    }

    @Test func aRunningServersStateFileCanBeReadButNotClaimedIn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("arbiter.state")
        let server = try await startServer(statePath: path)
        #expect(try await client(of: server).claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        #expect(try await FileArbiter(path: path).current(vm: "vm1") == (1, "node-a"))
        #expect(await arbitrationError { try await FileArbiter(path: path).claim(vm: "vm1", expectedGeneration: 1, owner: "operator") }
                == .stateFileInUse(path: path))
        await server.stop()
        // Stopped, its state file is an ordinary lock file: an operator may fence a VM in it.
        #expect(try await FileArbiter(path: path).claim(vm: "vm1", expectedGeneration: 1, owner: "operator") == .won(generation: 2))
        let restarted = try await startServer(statePath: path)
        #expect(try await client(of: restarted).current(vm: "vm1") == (2, "operator"))
        await restarted.stop()
    }
}
