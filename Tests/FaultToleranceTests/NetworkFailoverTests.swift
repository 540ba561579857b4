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

    /// Debian's redis-benchmark, 8 connections, across SIGKILL of the primary: it finishes every
    /// request without an error (a reset connection would be one).
    @Test func redisBenchmarkRunsAcrossAFailover() throws {
        let directory = temporaryDirectory("net-benchmark")
        let cluster = try LabCluster(options: LabCluster.Options(lockstep: lockstepExecutable(), lockstepKV: lockstepKVExecutable()),
                                     directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        let guest = cluster.lab.configuration.guestLANAddress
        // Its output goes to the process's log (standard error).
        let benchmark = try cluster.lab.spawn(in: .client, name: "redis-benchmark", executable: "/bin/sh", arguments: [
            "-c", "exec redis-benchmark -h \(guest) -p 6379 -c 8 -n 40000 -t set,get --csv 1>&2"], directory: directory)
        Thread.sleep(forTimeInterval: 3)
        #expect(benchmark.isRunning, "redis-benchmark ended before the failover: \(benchmark.log)")
        try cluster.inject(.killPrimary)
        let status = benchmark.waitForExit(seconds: 300)
        let log = benchmark.log
        #expect(status == 0, "redis-benchmark exited with \(status.map(String.init) ?? "no status (still running)"):\n\(log)\n\(cluster.logs)")
        #expect(!log.localizedCaseInsensitiveContains("error"), "\(log)")
        #expect(log.contains("\"SET\"") && log.contains("\"GET\""), "no results: \(log)")
        print("NetworkFailoverTests redis-benchmark across a failover:\n\(log)")
    }
}
