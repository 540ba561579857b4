import FaultInjection
import Foundation
import Testing

/// The proof of issue 15 with a real service: Redis with `appendonly yes` and `appendfsync
/// always` on an ext4 filesystem on the mirrored disk, in the network lab (hosts, LAN, lines
/// and arbiter in namespaces). Under one client's writes the primary is SIGKILLed, then the other
/// node; then both nodes are killed at once and started again from their disks, and every
/// acknowledged write is read back from the guest that booted from its disk.
@Suite(.serialized, .enabled(if: NetworkLab.isAvailable, "needs root and iproute2 (network namespaces)"))
struct DiskRedisTests {
    @Test(arguments: ["primary", "both"])
    func everyAcknowledgedWriteSurvivesEachNodeAndBothAtOnce(diskSync: String) throws {
        var options = LabCluster.Options(lockstep: lockstepExecutable(), lockstepKV: lockstepKVExecutable())
        options.diskMiB = 64
        options.diskSync = diskSync
        let directory = temporaryDirectory("disk-redis-\(diskSync)")
        let cluster = try LabCluster(options: options, directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        let client = try cluster.startClient(seconds: 600)
        Thread.sleep(forTimeInterval: 3)
        // The primary, then (after it came back with its disk and was resynced) the other node.
        try cluster.inject(.killPrimaryAfterReprotection)
        try cluster.reprotect()
        Thread.sleep(forTimeInterval: 2)
        client.stop()
        let summary = try client.summary()
        let report = "\(diskSync): \(summary)\nclient log:\n\(client.progressLog)\n\(cluster.logs)"
        print("DiskRedisTests \(diskSync): \(summary.acknowledgedWrites) writes acknowledged, longest stall \(Int(summary.longestStallMilliseconds)) ms")
        #expect(summary.acknowledgedWrites > 0, "\(report)")
        #expect(summary.connectionKept, "\(report)")
        #expect(summary.lostWrites.isEmpty, "acknowledged writes lost: \(report)")
        #expect(cluster.nodes.contains { $0.log.contains("quick resync from the primary") }, "no quick resync: \(report)")
        // Both at once: the newest disk boots the guest; Redis reads its append-only file.
        try cluster.restartBoth()
        #expect(cluster.nodes.contains { $0.log.contains("booting the guest from it") }, "\(cluster.logs)")
        let verified = try cluster.verify(ledger: client.ledgerPath)
        #expect(verified.passed, "after both nodes restarted from their disks: \(verified.report)\n\(cluster.logs)")
        #expect(cluster.releaseViolations().isEmpty, "\(cluster.releaseViolations())\n\(report)")
    }
}
