import Etcd
import FaultInjection
import Foundation
@testable import Pool
import Testing

/// No two VMs of a pool get the same MAC address or ports, also when they are declared at the
/// same moment by two operators (`lockstep vm create` run concurrently): the spec and its claims
/// are written in one transaction. Against a real etcd.
@Suite(.enabled(if: EtcdCluster.executable != nil, "needs etcd (apt-get install etcd-server)"))
struct VMClaimsTests {
    @Test func concurrentCreatesNeverShareAnAddressOrAPort() async throws {
        try await withPoolStoreOnEtcd("pool-claims") { store in
            // Twelve VMs at once, the pool picking ports: each read of the others sees none of them.
            let created = try await withThrowingTaskGroup(of: VMSpec.self) { group in
                for index in 0..<12 {
                    group.addTask { try await Self.create(VMSpec(name: "vm\(index)", memoryMiB: 64, append: "quiet", basePort: 0), in: store) }
                }
                return try await group.reduce(into: [VMSpec]()) { $0.append($1) }
            }
            let listed = try await store.vms().specs
            #expect(listed.count == 12)
            let ports = listed.flatMap { spec in (0..<3).map { spec.basePort + $0 } }
            #expect(Set(ports).count == ports.count, "ports shared: \(listed.map { "\($0.name) \($0.basePort)" })")
            #expect(Set(listed.compactMap(\.mac)).count == 12)
            #expect(Set(created.map(\.basePort)) == Set(listed.map(\.basePort)), "what create returned is what was written")

            // Two operators give one MAC address at once: one VM gets it, the other is refused.
            let mac = "02:00:00:aa:bb:cc"
            async let first: Result<VMSpec, PoolError> = Self.result { () async throws(PoolError) -> VMSpec in try await Self.create(Self.spec("web", mac: mac), in: store) }
            async let second: Result<VMSpec, PoolError> = Self.result { () async throws(PoolError) -> VMSpec in try await Self.create(Self.spec("db", mac: mac), in: store) }
            let results = await [first, second]
            let winners = results.compactMap { try? $0.get() }
            #expect(winners.count == 1)
            let refusal = results.compactMap { result -> PoolError? in if case .failure(let error) = result { error } else { nil } }.first
            #expect(refusal.map { "\($0)".contains("belongs to VM '\(winners.first?.name ?? "?")'") } ?? false, "\(String(describing: refusal))")

            // Ports given by hand that overlap another VM's are refused, naming it.
            let taken = listed[0]
            await #expect(throws: PoolError.invalid("--base-port \(taken.basePort + 2): VM '\(taken.name)' has ports \(taken.basePort)-\(taken.basePort + 2); give another, or none and the pool picks free ones")) {
                _ = try await store.create(VMSpec(name: "late", memoryMiB: 64, append: "quiet", basePort: taken.basePort + 2))
            }

            // Deleting a VM frees its address and ports.
            let winner = try #require(winners.first)
            try await store.delete(vm: winner.name)
            #expect(try await store.client.range(.prefix(store.keys.claims)).keyValues.count == 12 * 4)
            let again = try await store.create(Self.spec("again", mac: mac, basePort: winner.basePort))
            #expect(again.mac == mac && again.basePort == winner.basePort)
            await #expect(throws: PoolError.noSuchVM(winner.name)) { try await store.delete(vm: winner.name) }
        }
    }

    /// `store.create(spec)` as an operator runs `vm create`: again when etcd could not be reached
    /// (a loaded machine's etcd has dropped a connection of the twelve at once), and a VM found
    /// declared under its own name after such a failure is the one the failed attempt wrote.
    static func create(_ spec: VMSpec, in store: PoolStore) async throws(PoolError) -> VMSpec {
        var unreachable = false
        for _ in 0..<5 {
            do {
                return try await store.create(spec)
            } catch .etcd(.unreachable(let endpoints, let reason)) {
                print("VMClaimsTests: creating \(spec.name): etcd unreachable at \(endpoints) (\(reason)); again")
                unreachable = true
            } catch .vmExists(let name) where unreachable {
                if let written = try await store.vms().specs.first(where: { $0.name == name }) { return written }
            }
        }
        throw .invalid("VM '\(spec.name)': etcd kept failing")
    }

    static func spec(_ name: String, mac: String, basePort: Int = 0) -> VMSpec {
        var spec = VMSpec(name: name, memoryMiB: 64, append: "quiet", basePort: basePort)
        spec.mac = mac
        return spec
    }

    static func result(_ body: () async throws(PoolError) -> VMSpec) async -> Result<VMSpec, PoolError> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }
}
