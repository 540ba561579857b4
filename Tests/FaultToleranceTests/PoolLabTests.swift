import FaultInjection
import Foundation
import KVWorkload
import Testing

/// Issue 16's proof in the network-namespace lab (``PoolLab``): three hosts, each with an agent
/// and an etcd member, run two Redis VMs with mirrored disks, declared with `lockstep vm create`.
/// Every step runs under client load (ONE connection per VM, every write acknowledged is
/// remembered): a switchover, a drain and undrain, an etcd member lost (a switchover still
/// happens meanwhile), a host partitioned away and healed, and a host killed that runs the
/// primary of one VM and the backup of the other. After each step: neither connection was reset,
/// every acknowledged write reads back, and no two primaries released output.
@Suite(.serialized, .enabled(if: NetworkLab.isAvailable && EtcdCluster.executable != nil, "needs root, iproute2 and etcd"))
struct PoolLabTests {
    @Test func twoRedisVMsKeepTheirClientsThroughEveryPoolFault() throws {
        let directory = temporaryDirectory("pool-lab")
        let lab = try PoolLab(options: PoolLab.Options(lockstep: lockstepExecutable(), lockstepKV: lockstepKVExecutable()), directory: directory)
        defer { lab.stop(); removeTemporaryDirectory(directory) }
        let booted = Date()
        try lab.start()
        print("pool lab: \(lab.vmNames.count) VMs protected and serving after \(String(format: "%.0f", Date().timeIntervalSince(booted))) s")

        // The switchover and the etcd member's loss aim at the first VM, the others at the second.
        for (fault, choice) in [(PoolFault.switchover, 0), (.drain, 1), (.etcdMember, 0), (.partition, 1), (.killHost, 1)] {
            let (outcome, clients) = try lab.underLoad(fault.rawValue) { try lab.inject(fault, choice: choice) }
            print("pool lab \(fault): \(outcome)")
            for (vm, summary) in clients {
                let report = "\(fault), \(vm): \(summary)\n\(lab.logs)"
                #expect(summary.connectionKept, "the connection was reset or lost: \(report)")
                #expect(summary.lostWrites.isEmpty && summary.verificationError == nil, "acknowledged writes lost: \(report)")
                #expect(summary.acknowledgedPerSecond.suffix(2).contains { $0 > 0 }, "no writes after the fault: \(report)")
                #expect(lab.releaseViolations(vm).isEmpty, "two primaries released output: \(lab.releaseViolations(vm))")
                print("pool lab \(fault), \(vm): \(summary.acknowledgedWrites) writes acknowledged and read back, longest stall \(Int(summary.longestStallMilliseconds)) ms, connection kept: \(summary.connectionKept)")
            }
        }
        #expect(lab.namespaceNames.count == PoolLab.namespaceSuffixes.count)
    }
}
