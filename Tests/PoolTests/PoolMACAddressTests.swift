import Etcd
import FaultInjection
import Foundation
import Machine
@testable import Pool
import Testing

/// Every VM of a pool has its own MAC address: `lockstep vm create` picks a locally administered
/// one from the VM's name unless given one, never one another VM has; the agent gives it to the
/// VM's nodes and `vm show` says it.
@Suite struct PoolMACAddressTests {
    @Test func aPickedAddressIsLocallyAdministeredUnicastAndStable() {
        let mac = PoolMACAddress.assign(for: "redis", taken: [])
        #expect(mac.count == 6 && mac[0] == 0x02)
        #expect(MACAddress.isLocallyAdministered(mac) && !MACAddress.isMulticast(mac))
        #expect(PoolMACAddress.assign(for: "redis", taken: []) == mac, "the same name, the same address")
        #expect(PoolMACAddress.assign(for: "redis2", taken: []) != mac)
        // FNV-1a's published test value: the 64-bit hash of "a" is 0xaf63dc4c8601ec8c.
        #expect(PoolMACAddress.fnv1a("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(PoolMACAddress.assign(for: "a", taken: []) == [0x02, 0x4C, 0x86, 0x01, 0xEC, 0x8C])
    }

    @Test func aTakenAddressMovesToTheNextFreeOne() {
        let first = PoolMACAddress.assign(for: "redis", taken: [])
        let next = PoolMACAddress.assign(for: "redis", taken: [first])
        let value = PoolMACAddress.fnv1a("redis") & 0xFF_FFFF_FFFF
        #expect(first == PoolMACAddress.address(value))
        #expect(next == PoolMACAddress.address((value + 1) & 0xFF_FFFF_FFFF))
        let third = PoolMACAddress.assign(for: "redis", taken: [first, next])
        #expect(Set([first, next, third]).count == 3)
        // The 40 bits wrap around, staying locally administered.
        #expect(PoolMACAddress.address(0xFF_FFFF_FFFF) == [0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(PoolMACAddress.address(0) == [0x02, 0, 0, 0, 0, 0])
    }

    @Test func aGivenAddressIsCheckedAndRefusedIfAnotherVMHasIt() throws {
        var web = VMSpec(name: "web", memoryMiB: 64, append: "quiet", basePort: 7100)
        web.mac = "02:00:00:aa:bb:cc"
        let old = VMSpec(name: "old", memoryMiB: 64, append: "quiet", basePort: 7110)   // a record from before: QEMU's default
        var db = VMSpec(name: "db", memoryMiB: 64, append: "quiet", basePort: 7120)
        db.mac = "02:00:00:AA:BB:CD"
        #expect(try PoolStore.macAddress(for: db, others: [web, old]) == [0x02, 0x00, 0x00, 0xAA, 0xBB, 0xCD])
        db.mac = "02:00:00:aa:bb:cc"
        #expect(throws: PoolError.invalid("MAC address 02:00:00:aa:bb:cc belongs to VM 'web': two VMs on one LAN cannot share one; give another --mac, or none and the pool picks a free one")) {
            try PoolStore.macAddress(for: db, others: [web, old])
        }
        db.mac = "52:54:00:12:34:56"
        #expect(throws: PoolError.self) { try PoolStore.macAddress(for: db, others: [web, old]) }
        db.mac = "01:00:5e:00:00:01"
        let multicast = #expect(throws: PoolError.self) { try PoolStore.macAddress(for: db, others: []) }
        #expect(multicast?.description.contains("multicast") == true, "\(String(describing: multicast))")
    }

    @Test(.enabled(if: EtcdCluster.executable != nil, "needs etcd (apt-get install etcd-server)"))
    func createGivesTwoVMsDistinctAddressesAndRefusesATakenOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-pool-mac-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try EtcdCluster(directory: directory)
        defer { cluster.shutdown() }
        let store = PoolStore(client: EtcdClient(endpoints: try EtcdEndpoint.list(cluster.clientURLs)))

        let first = try await store.create(VMSpec(name: "r1", memoryMiB: 64, append: "quiet", basePort: 0))
        let second = try await store.create(VMSpec(name: "r2", memoryMiB: 64, append: "quiet", basePort: 0))
        let firstMAC = try MACAddress.parse(try #require(first.mac))
        let secondMAC = try MACAddress.parse(try #require(second.mac))
        #expect(firstMAC != secondMAC)
        #expect(firstMAC[0] == 0x02 && secondMAC[0] == 0x02)
        #expect(firstMAC == PoolMACAddress.assign(for: "r1", taken: [VirtioNetwork.defaultMAC]))
        // Stored as declared.
        let specs = try await store.vms().specs
        #expect(Set(specs.compactMap(\.mac)) == [first.mac!, second.mac!])

        // A name whose address another VM has already: the next one.
        var given = VMSpec(name: "r3", memoryMiB: 64, append: "quiet", basePort: 0)
        given.mac = MACAddress.format(PoolMACAddress.assign(for: "r4", taken: []))
        let third = try await store.create(given)
        #expect(third.mac == given.mac)
        let fourth = try await store.create(VMSpec(name: "r4", memoryMiB: 64, append: "quiet", basePort: 0))
        #expect(fourth.mac != third.mac && fourth.mac != nil)

        // --mac of another VM: refused, nothing declared.
        var taken = VMSpec(name: "r5", memoryMiB: 64, append: "quiet", basePort: 0)
        taken.mac = first.mac
        await #expect(throws: PoolError.self) { _ = try await store.create(taken) }
        #expect(try await !store.vms().specs.contains { $0.name == "r5" })

        // What `vm show` prints.
        let shown = PoolStatusTable.vm("r1", in: try await store.vms())
        #expect(shown?.contains("network: MAC \(first.mac!), no --netdev") == true, "\(shown ?? "nil")")
    }

    @Test func theAgentGivesTheNodesTheVMsAddress() throws {
        var spec = VMSpec(name: "r1", memoryMiB: 256, append: "quiet", netdev: "bridge,br=br0", basePort: 7110)
        let agent = AgentNodeArgumentsTests.agent(nodeArguments: [])
        #expect(!(try agent.nodeArguments(spec, peer: "10.99.0.2")).contains("--mac"), "a record from before: the nodes' default")
        spec.mac = "02:00:00:aa:bb:cc"
        let arguments = try agent.nodeArguments(spec, peer: "10.99.0.2")
        #expect(zip(arguments, arguments.dropFirst()).contains { $0 == ("--mac", "02:00:00:aa:bb:cc") }, "\(arguments)")
        var state = PoolStore.VMState()
        state.specs = [spec]
        #expect(PoolStatusTable.vm("r1", in: state)?.contains("network: MAC 02:00:00:aa:bb:cc, --netdev bridge,br=br0") == true)
        spec.mac = nil
        state.specs = [spec]
        #expect(PoolStatusTable.vm("r1", in: state)?.contains("network: MAC 52:54:00:12:34:56 (QEMU's default)") == true)
    }
}
