@testable import Arbitration
import Etcd
import FaultInjection
import Foundation
import LockstepSupport
import Testing

/// ``EtcdArbiter`` on a real etcd (Debian's `etcd-server`), beyond the contract every backend
/// meets (``ArbiterContractTests``): a three-member cluster loses a member and nothing changes;
/// without a quorum a claim fails with a timeout instead of hanging or guessing, and goes on when
/// a member is back; keys changed by hand, and a peer that is not etcd, are refused.
@Suite(.serialized) struct EtcdArbiterTests {
    static func arbiter(_ cluster: EtcdCluster, timeout: Duration = .seconds(2)) throws -> EtcdArbiter {
        EtcdArbiter(client: EtcdClient(endpoints: try EtcdEndpoint.list(cluster.clientURLs), timeout: timeout))
    }

    @Test func aThreeMemberClusterLosesAMemberAndNothingChanges() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cluster = try EtcdCluster(count: 3, directory: URL(fileURLWithPath: directory.file("etcd")))
        defer { cluster.shutdown() }
        let arbiter = try Self.arbiter(cluster)
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))

        // The member the client used first dies: the client goes on through the others.
        cluster.kill(member: 0)
        try cluster.waitUntilServing()
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 1, owner: "node-b") == .won(generation: 2))
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: 1, owner: "node-a") == .lost(generation: 2, owner: "node-b"))
        #expect(try await arbiter.current(vm: "vm1") == (2, "node-b"))

        // Two of three gone: no quorum. The claim's outcome is unknown, and it says so in time.
        cluster.kill(member: 1)
        let started = Date()
        let error = await arbitrationError { try await arbiter.claim(vm: "vm1", expectedGeneration: 2, owner: "node-a") }
        switch error {
        case .timeout?, .unreachable?, .arbiterFailed?: break
        default: Issue.record("a claim without a quorum gave \(String(describing: error))")
        }
        #expect(Date().timeIntervalSince(started) < 30, "the claim without a quorum hung")

        // A member is back: the quorum is too, and the generation is where it was.
        try cluster.restart(member: 0)
        try cluster.waitUntilServing()
        let current = try await arbiter.current(vm: "vm1")
        // The claim made without a quorum may or may not have been committed before the loss.
        #expect(current == (2, "node-b") || current == (3, "node-a"))
        #expect(try await arbiter.claim(vm: "vm1", expectedGeneration: current.generation, owner: "node-c") == .won(generation: current.generation + 1))
    }

    @Test func keysChangedByHandAreRefusedNotTrusted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cluster = try EtcdCluster(directory: URL(fileURLWithPath: directory.file("etcd")))
        defer { cluster.shutdown() }
        let arbiter = try Self.arbiter(cluster)
        let client = arbiter.client

        // Garbage in the key.
        try await client.put(arbiter.key(vm: "garbage"), Array("hello".utf8))
        #expect(await arbitrationError { try await arbiter.current(vm: "garbage") }.map(isMalformed) == true)

        // A generation that disagrees with the key's version (a hand-made put).
        #expect(try await arbiter.claim(vm: "edited", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        try await client.put(arbiter.key(vm: "edited"), EtcdArbiter.encode(generation: 7, owner: "node-x"))
        #expect(await arbitrationError { try await arbiter.current(vm: "edited") }.map(isMalformed) == true)
        #expect(await arbitrationError { try await arbiter.claim(vm: "edited", expectedGeneration: 7, owner: "node-a") }.map(isMalformed) == true)

        // The key deleted under a VM that had a generation: never silently back to 0.
        #expect(try await arbiter.claim(vm: "deleted", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        try await client.delete(arbiter.key(vm: "deleted"))
        let error = await arbitrationError { try await arbiter.claim(vm: "deleted", expectedGeneration: 1, owner: "node-b") }
        guard case .arbiterFailed(_, let reason)? = error else {
            Issue.record("a claim on a deleted key gave \(String(describing: error))")
            return
        }
        #expect(reason.contains("deleted"))

        // A name that is not one path segment.
        #expect(await arbitrationError { try await arbiter.claim(vm: "a/b", expectedGeneration: 0, owner: "n") }.map(isInvalid) == true)
    }

    @Test func aPeerThatIsNotEtcdOrNoPeerAtAll() async throws {
        // Nothing listens: unreachable, at once.
        let closed = try TestPorts.reserve()
        let nobody = EtcdArbiter(client: EtcdClient(endpoints: [EtcdEndpoint(host: "127.0.0.1", port: closed)]))
        guard case .unreachable(let address, _)? = await arbitrationError({ try await nobody.current(vm: "vm") }) else {
            Issue.record("no listener did not give unreachable")
            return
        }
        #expect(address.contains(String(closed)))

        // The built-in arbiter's port: it speaks another protocol.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await startServer(statePath: directory.file("state"))
        let wrong = EtcdArbiter(client: EtcdClient(endpoints: [EtcdEndpoint(host: "127.0.0.1", port: Int(server.address.port))],
                                                   timeout: .seconds(2)))
        let error = await arbitrationError { try await wrong.claim(vm: "vm", expectedGeneration: 0, owner: "n") }
        await server.stop()
        guard case .malformedResponse(_, let detail)? = error else {
            Issue.record("the arbiter's port gave \(String(describing: error))")
            return
        }
        #expect(detail.contains("not HTTP"))
    }

    @Test func endpointsParseOrSayWhatIsExpected() throws {
        #expect(try EtcdEndpoint.list("http://127.0.0.1:2379, 10.0.0.2:2379") ==
                [EtcdEndpoint(host: "127.0.0.1", port: 2379), EtcdEndpoint(host: "10.0.0.2", port: 2379)])
        #expect(try EtcdEndpoint(parsing: "http://[fd00::1]:2379/") == EtcdEndpoint(host: "fd00::1", port: 2379))
        for bad in ["", "http://host", "https://host:2379", "host:0", "host:99999", ":2379"] {
            #expect(throws: EtcdError.self, "\(bad)") { try EtcdEndpoint.list(bad) }
        }
    }

    private func isMalformed(_ error: ArbitrationError) -> Bool {
        if case .malformedResponse = error { return true }
        return false
    }

    private func isInvalid(_ error: ArbitrationError) -> Bool {
        if case .invalidRequest = error { return true }
        return false
    }
}
