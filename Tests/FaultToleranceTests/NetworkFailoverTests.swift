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
    enum Fault: String, CaseIterable, CustomTestStringConvertible {
        case killPrimary, killBackup, partition, cutPrimaryLAN, killPrimaryAfterReprotection
        var testDescription: String { rawValue }
    }

    @Test(arguments: Fault.allCases)
    func oneConnectionSurvives(_ fault: Fault) throws {
        let directory = temporaryDirectory("net-\(fault.rawValue)")
        let cluster = try LabCluster(options: LabCluster.Options(lockstep: lockstepExecutable(), lockstepKV: lockstepKVExecutable()),
                                     directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        let client = try cluster.startClient(seconds: 600)
        Thread.sleep(forTimeInterval: 3)   // writing under protection
        guard let primary = cluster.primary else { Issue.record("no primary before the fault\n\(cluster.logs)"); return }
        let backup = 1 - primary
        let backupLog = cluster.nodes[backup].log.count, primaryLog = cluster.nodes[primary].log.count
        switch fault {
        case .killPrimary:
            cluster.nodes[primary].kill()
            try cluster.nodes[backup].waitForLog("live as primary", after: backupLog, seconds: 30)
        case .killBackup:
            cluster.nodes[backup].kill()
            try cluster.nodes[primary].waitForLog("won the arbiter", after: primaryLog, seconds: 30)
        case .partition:
            try cluster.lab.partition()
            // Both claim; the arbiter lets one go on, and the other stops with its TAP down.
            try waitUntil(seconds: 30) {
                cluster.nodes[primary].log.dropFirst(primaryLog).contains("lost the arbiter")
                    || cluster.nodes[backup].log.dropFirst(backupLog).contains("lost the arbiter")
            }
            try cluster.lab.heal()
        case .cutPrimaryLAN:
            try cluster.lab.cutLAN(primary == 0 ? .a : .b)
            Thread.sleep(forTimeInterval: 2)
            try cluster.lab.restoreLAN(primary == 0 ? .a : .b)
        case .killPrimaryAfterReprotection:
            cluster.nodes[primary].kill()
            try cluster.nodes[backup].waitForLog("live as primary", after: backupLog, seconds: 30)
            try cluster.rejoin(primary)   // re-protected: the old primary's host is the new backup
            Thread.sleep(forTimeInterval: 2)
            let again = cluster.nodes[primary].log.count
            cluster.nodes[backup].kill()
            try cluster.nodes[primary].waitForLog("live as primary", after: again, seconds: 30)
        }
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

    func waitUntil(seconds: Double, _ condition: () -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return }
            usleep(50_000)
        }
        throw FaultInjectionError.timeout("condition not met within \(seconds) s")
    }
}
