import FaultInjection
import Foundation
import KVWorkload
import Testing

/// Where the built `lockstep-kv` is: next to `lockstep`.
func lockstepKVExecutable() -> String {
    URL(fileURLWithPath: lockstepExecutable()).deletingLastPathComponent().appendingPathComponent("lockstep-kv").path
}

/// The proof of issue 14: a client holding ONE TCP connection to Redis in the replicated guest
/// (hosts, LAN, lines and arbiter in network namespaces, the guest on a TAP on each host's
/// bridge) writes continuously through a fault; afterwards the connection was never reset, every
/// acknowledged write reads back, writes went on after the fault, and no two primaries ever
/// released output.
@Suite(.serialized, .enabled(if: NetworkLab.isAvailable, "needs root and iproute2 (network namespaces)"))
struct NetworkFailoverTests {
    @Test(arguments: NetworkFault.allCases)
    func oneConnectionSurvives(_ fault: NetworkFault) throws {
        let directory = temporaryDirectory("net-\(fault.rawValue)")
        let cluster = try LabCluster(options: LabCluster.Options(lockstep: lockstepExecutable(), lockstepKV: lockstepKVExecutable()),
                                     directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        let client = try cluster.startClient(seconds: 600)
        Thread.sleep(forTimeInterval: 3)   // writing under protection
        try cluster.inject(fault)
        Thread.sleep(forTimeInterval: 4)   // writing after the fault
        client.stop()
        let summary = try client.summary()
        let report = "\(fault): \(summary)\nclient log:\n\(client.progressLog)\n\(cluster.logs)"
        print("NetworkFailoverTests \(fault): \(summary.acknowledgedWrites) writes acknowledged, longest stall \(Int(summary.longestStallMilliseconds)) ms, connection kept: \(summary.connectionKept)")
        #expect(summary.connectionKept, "the connection was reset or lost: \(report)")
        #expect(summary.lostWrites.isEmpty, "acknowledged writes lost: \(report)")
        #expect(summary.verificationError == nil, "\(report)")
        // Writes went on after the fault: the last seconds acknowledged some.
        #expect(summary.acknowledgedPerSecond.suffix(3).contains { $0 > 0 }, "no writes after the fault: \(report)")
        #expect(cluster.releaseViolations().isEmpty, "two primaries released output: \(cluster.releaseViolations())\n\(report)")
    }
}
