import Etcd
import FaultInjection
import Foundation
@testable import Pool
import Testing

/// One read of the whole pool (`PoolStore.snapshot`, what the agents decide from) holds what
/// the reads of each kind of record hold, and none of the VMs' claims. Against a real etcd.
@Suite(.enabled(if: EtcdCluster.executable != nil, "needs etcd (apt-get install etcd-server)"))
struct PoolSnapshotTests {
    @Test func aSnapshotHoldsWhatEachReadHolds() async throws {
        try await withPoolStoreOnEtcd("pool-snapshot") { store in
            // No lease (0): these records must not expire while the test waits for a thread (a
            // loaded machine's synchronous tests can hold the concurrency pool's for minutes).
            let lease: Int64 = 0
            for (index, name) in ["h1", "h2", "h3"].enumerated() {
                try await store.register(HostRecord(name: name, address: "10.0.0.\(index + 1)", memoryMiB: 1024), lease: lease)
            }
            _ = try await store.create(VMSpec(name: "r1", memoryMiB: 64, append: "quiet", basePort: 0))
            _ = try await store.create(VMSpec(name: "r2", memoryMiB: 64, append: "quiet", basePort: 0))
            #expect(try await store.setPlacement(Placement(hosts: ["h1", "h2"]), vm: "r1", ifRevision: 0))
            try await store.report(NodeStatus(host: "h1", role: .primary, detail: "", updated: 1), vm: "r1", lease: lease)
            try await store.report(NodeStatus(host: "h2", role: .backup, detail: "", updated: 1), vm: "r1", lease: lease)
            try await store.setDrain("h3", true)
            try await store.setSuspect("h2", reason: "slow")
            #expect(try await store.campaign("h1", lease: lease))

            let snapshot = try await store.snapshot()
            let hosts = try await store.hosts()
            #expect(snapshot.hosts.map(\.name).sorted() == hosts.map(\.name).sorted())
            #expect(snapshot.hosts.count == 3)
            let state = try await store.vms()
            #expect(snapshot.state.specs.map(\.name).sorted() == ["r1", "r2"])
            #expect(state.specs.map(\.name).sorted() == ["r1", "r2"])
            #expect(snapshot.state.placements == state.placements)
            #expect(snapshot.state.placementRevisions == state.placementRevisions)
            #expect(snapshot.state.protected == ["r1"])
            #expect(state.protected == ["r1"])
            #expect(snapshot.state.nodeRevisions == state.nodeRevisions)
            #expect(snapshot.drained == ["h3"])
            #expect(snapshot.suspects == ["h2": "slow"])
            let drained = try await store.drained(), suspects = try await store.suspects()
            #expect(snapshot.drained == drained)
            #expect(snapshot.suspects == suspects)
            // The one range runs from drain/ to the end of vms/ (etcd orders keys by their bytes): it
            // holds the hosts, the leader and the suspects, and not the claims.
            let keys = store.keys
            #expect(keys.claims < keys.drains)
            #expect([keys.hosts, keys.leader, keys.suspects].allSatisfy { keys.drains < $0 && $0 < keys.vms })
        }
    }
}
