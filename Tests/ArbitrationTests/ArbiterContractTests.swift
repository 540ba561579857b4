@testable import Arbitration
import Etcd
import FaultInjection
import Foundation
import Testing

/// The contract of ``Arbiter``, checked the same way on every backend: the built-in server
/// (through ``RemoteArbiter``), the lock file (``FileArbiter``) and a real etcd (``EtcdArbiter``).
@Suite struct ArbiterContractTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case server, file, etcd
        var testDescription: String { rawValue }
    }

    /// One backend on a fresh state; ``arbiter()`` makes a new, independent client of it.
    final class Fixture {
        let backend: Backend
        let directory: TemporaryDirectory
        var server: ArbiterServer?
        var etcd: EtcdCluster?
        var statePath: String { directory.file(backend == .server ? "arbiter.state" : "vms.lock") }

        init(_ backend: Backend) async throws {
            self.backend = backend
            directory = try TemporaryDirectory()
            if backend == .server { server = try await startServer(statePath: statePath) }
            if backend == .etcd { etcd = try EtcdCluster(directory: URL(fileURLWithPath: directory.file("etcd"))) }
        }

        func arbiter() -> any Arbiter {
            switch backend {
            case .server: client(of: server!)
            case .file: FileArbiter(path: statePath)
            case .etcd: EtcdArbiter(client: EtcdClient(endpoints: try! EtcdEndpoint.list(etcd!.clientURLs)))
            }
        }

        /// The server stopped and started again on its state file (the file backend has no
        /// process); etcd killed and started again on its data directory.
        func restart() async throws {
            if let etcd {
                etcd.kill(member: 0)
                try etcd.restart(member: 0)
                try etcd.waitUntilServing()
            }
            guard let old = server else { return }
            await old.stop()
            server = try await startServer(statePath: statePath)
        }

        func tearDown() async {
            await server?.stop()
            etcd?.shutdown()
            directory.remove()
        }
    }

    @Test(arguments: Backend.allCases)
    func claimsMoveTheGenerationOneStepAtATime(backend: Backend) async throws {
        let fixture = try await Fixture(backend)
        let arbiter = fixture.arbiter()

        #expect(try await arbiter.current(vm: "vm1") == (0, ""))
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 0, owner: "node-b") == .lost(generation: 1, owner: "node-a"))
        #expect(try await arbiter.current(vm: "vm1") == (1, "node-a"))
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 1, owner: "node-b") == .won(generation: 2))
        // A stale claimer, even the one that owned generation 1, loses and learns the new owner.
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 1, owner: "node-a") == .lost(generation: 2, owner: "node-b"))
        // Claiming ahead of the real generation loses too.
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 7, owner: "node-a") == .lost(generation: 2, owner: "node-b"))
        #expect(try await arbiter.current(vm: "vm1") == (2, "node-b"))

        // Another VM is independent.
        #expect(try await arbiter.current(vm: "vm2") == (0, ""))
        #expect(try await arbiter.claim(vm: "vm2", expectedGeneration: 0, owner: "node-b") == .won(generation: 1))
        #expect(try await arbiter.current(vm: "vm1") == (2, "node-b"))
        #expect(try await arbiter.current(vm: "vm2") == (1, "node-b"))
        await fixture.tearDown()
    }

    @Test(arguments: Backend.allCases)
    func exactlyOneOfManyConcurrentClaimersWins(backend: Backend) async throws {
        let fixture = try await Fixture(backend)
        for round in 0..<3 {
            let expected = UInt64(round)
            let outcomes = await withTaskGroup(of: (String, Result<ArbitrationOutcome, ArbitrationError>).self) { group in
                for index in 0..<20 {
                    let arbiter = fixture.arbiter()   // each its own client: connection or file descriptor
                    let owner = "node-\(round)-\(index)"
                    group.addTask {
                        do throws(ArbitrationError) {
                            return (owner, .success(try await arbiter.claim(vm: "contended", expectedGeneration: expected, owner: owner)))
                        } catch {
                            return (owner, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            let winners = outcomes.filter { if case .success(.won) = $0.value { true } else { false } }.map(\.key)
            try #require(winners.count == 1, "winners in round \(round): \(winners), outcomes: \(outcomes)")
            for (owner, outcome) in outcomes where owner != winners[0] {
                #expect(try outcome.get() == .lost(generation: expected + 1, owner: winners[0]))
            }
            #expect(try await fixture.arbiter().current(vm: "contended") == (expected + 1, winners[0]))
        }
        await fixture.tearDown()
    }

    @Test(arguments: Backend.allCases)
    func generationsSurviveARestart(backend: Backend) async throws {
        let fixture = try await Fixture(backend)
        #expect(try await fixture.arbiter().claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        #expect(try await fixture.arbiter().claim(vm: "vm1", expectedGeneration: 1, owner: "node-b") == .won(generation: 2))
        #expect(try await fixture.arbiter().claim(vm: "vm2", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))

        try await fixture.restart()
        let arbiter = fixture.arbiter()
        #expect(try await arbiter.current(vm: "vm1") == (2, "node-b"))
        #expect(try await arbiter.current(vm: "vm2") == (1, "node-a"))
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 1, owner: "node-a") == .lost(generation: 2, owner: "node-b"))
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 2, owner: "node-a") == .won(generation: 3))
        await fixture.tearDown()
    }

    @Test(arguments: Backend.allCases)
    func invalidRequestsAreRefusedBeforeTheyLeave(backend: Backend) async throws {
        let fixture = try await Fixture(backend)
        let arbiter = fixture.arbiter()
        let longName = String(repeating: "x", count: 256)
        #expect(await arbitrationError { try await arbiter.claim(vm: "", expectedGeneration: 0, owner: "a") }.map(isInvalidRequest) == true)
        #expect(await arbitrationError { try await arbiter.claim(vm: longName, expectedGeneration: 0, owner: "a") }.map(isInvalidRequest) == true)
        #expect(await arbitrationError { try await arbiter.claim(vm: "vm", expectedGeneration: 0, owner: "") }.map(isInvalidRequest) == true)
        #expect(await arbitrationError { try await arbiter.claim(vm: "vm", expectedGeneration: .max, owner: "a") }.map(isInvalidRequest) == true)
        #expect(await arbitrationError { try await arbiter.current(vm: "") }.map(isInvalidRequest) == true)
        // A 255-byte name in UTF-8 is fine, and comes back intact.
        let unicodeName = String(repeating: "é", count: 127)   // 254 bytes
        #expect(try await arbiter.claim(vm: unicodeName, expectedGeneration: 0, owner: unicodeName) == .won(generation: 1))
        #expect(try await arbiter.current(vm: unicodeName) == (1, unicodeName))
        await fixture.tearDown()
    }

    private func isInvalidRequest(_ error: ArbitrationError) -> Bool {
        if case .invalidRequest = error { return true }
        return false
    }
}

/// Tuples are not Equatable; compare a `current` answer with an expected one.
func == (lhs: (generation: UInt64, owner: String), rhs: (UInt64, String)) -> Bool {
    lhs.generation == rhs.0 && lhs.owner == rhs.1
}
