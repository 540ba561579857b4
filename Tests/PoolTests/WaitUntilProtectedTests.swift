import Etcd
import FaultInjection
import Foundation
import Synchronization
@testable import Pool
import Testing

/// `lockstep vm switchover` and `vm move` need a VM in step: one being re-protected is waited
/// for (the health policy or a failover may have just moved it), one that cannot be is refused at
/// once with the reason. Against a real etcd.
@Suite(.enabled(if: EtcdCluster.executable != nil, "needs etcd (apt-get install etcd-server)"))
struct WaitUntilProtectedTests {
    @Test func aVMBeingReprotectedIsWaitedForAndOneWithoutRoomIsRefused() async throws {
        try await withPoolStoreOnEtcd("pool-wait") { store in
            _ = try await store.create(VMSpec(name: "r1", memoryMiB: 64, append: "quiet", basePort: 7100))
            _ = try await store.create(VMSpec(name: "r2", memoryMiB: 64, append: "quiet", basePort: 7110))
            // No lease (0): these records must not expire while the test waits for a thread (a
            // loaded machine's synchronous tests can hold the concurrency pool's for minutes).
            let lease: Int64 = 0
            // r1: its primary on h1, a new backup on h2 still starting.
            #expect(try await store.setPlacement(Placement(hosts: ["h1", "h2"]), vm: "r1", ifRevision: 0))
            try await store.report(NodeStatus(host: "h1", role: .primaryAlone, detail: "", updated: 1), vm: "r1", lease: lease)
            try await store.report(NodeStatus(host: "h2", role: .starting, detail: "", updated: 1), vm: "r1", lease: lease)
            // r2: alone, no host with room.
            #expect(try await store.setPlacement(Placement(hosts: ["h1"], waiting: "no host besides h1 has 64 MiB free: the VM runs unprotected"),
                                                 vm: "r2", ifRevision: 0))
            try await store.report(NodeStatus(host: "h1", role: .primaryAlone, detail: "", updated: 1), vm: "r2", lease: lease)

            let said = Mutex<[String]>([])
            let waiting = Task {
                try await store.waitUntilProtected("r1", until: Date(timeIntervalSinceNow: 30), for: "a switchover") { line in
                    said.withLock { $0.append(line) }
                }
            }
            for _ in 0..<300 where said.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(100)) }
            #expect(said.withLock { $0 } == ["VM 'r1' is re-protecting: waiting for its backup to be in step first"])
            // The backup comes into step: the wait ends with the state that shows it.
            try await store.report(NodeStatus(host: "h1", role: .primary, detail: "", updated: 2), vm: "r1", lease: lease)
            try await store.report(NodeStatus(host: "h2", role: .backup, detail: "", updated: 2), vm: "r1", lease: lease)
            let state = try await waiting.value
            #expect(state.protected.contains("r1"))
            #expect(said.withLock { $0.count } == 1)

            // r2 cannot be protected now: refused at once (it never says it waits), with the reason.
            let saidForR2 = Mutex<[String]>([])
            await #expect(throws: PoolError.invalid("VM 'r2' is not protected now (not protected; no host besides h1 has 64 MiB free: the VM runs unprotected): a switchover needs a primary and a backup in step")) {
                _ = try await store.waitUntilProtected("r2", until: Date(timeIntervalSinceNow: 30), for: "a switchover") { line in
                    saidForR2.withLock { $0.append(line) }
                }
            }
            #expect(saidForR2.withLock { $0 }.isEmpty)
            await #expect(throws: PoolError.noSuchVM("r3")) {
                _ = try await store.waitUntilProtected("r3", until: Date(timeIntervalSinceNow: 30), for: "a switchover")
            }
        }
    }
}
