import FaultInjection
import Foundation
import LockstepSupport
import Testing

/// A planned switchover (SIGUSR1 to the live primary, what `lockstep vm switchover` sends) under a
/// continuous write load: the backup takes over without waiting for a failure timeout, the old
/// primary ends with status 4 having released nothing after the handover, no acknowledged write
/// is lost, no two primaries ever release output, and the old primary joins the new one as its
/// backup. Twice, so that the VM goes back where it started.
@Suite(.serialized) struct SwitchoverTests {
    @Test func aSwitchoverLosesNothingAndTheOldPrimaryJoinsBack() throws {
        let directory = temporaryDirectory("switchover")
        let cluster = try Cluster(options: Cluster.Options(lockstep: lockstepExecutable()), directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        let writer = try BackgroundWriter(endpoints: cluster.endpoints)
        writer.start()
        defer { writer.stop() }
        try writer.waitForProgress(20, seconds: 60)
        for round in 0..<2 {
            let primary = try #require(cluster.primary), backup = 1 - primary
            let offset = cluster.nodes[backup].log.count
            writer.resetGap()
            kill(try #require(cluster.nodes[primary].processIdentifier), SIGUSR1)
            try cluster.nodes[backup].waitForLog("handed over at instruction", after: offset, seconds: 30)
            try cluster.nodes[backup].waitForLog("console on", after: offset, seconds: 30)
            #expect(cluster.nodes[primary].waitForExit(seconds: 15) == 4, "the old primary did not end with status 4:\n\(cluster.logs)")
            let handover = cluster.nodes[primary].log.split(separator: "\n").first { $0.contains("switchover: handed over") } ?? ""
            let claim = cluster.nodes[backup].log.dropFirst(offset).split(separator: "\n").first { $0.contains("won the arbiter in") } ?? ""
            try writer.waitForProgress(20, seconds: 60)
            print("switchover \(round + 1): \(LogfmtLogHandler.message(of: handover)); backup: \(LogfmtLogHandler.message(of: claim).split(separator: ":").first ?? ""); longest gap the client saw: \(Int(writer.longestGapSeconds * 1000)) ms")
            #expect(!cluster.nodes[backup].log.dropFirst(offset).contains("primary lost: every line silent"), "the backup waited for a failure")
            try cluster.rejoin(primary)
            try writer.waitForProgress(20, seconds: 60)
        }
        writer.stop()
        let report = try writer.verify()
        #expect(report.lost.isEmpty, "\(report.lost)\n\(cluster.logs)")
        #expect(cluster.releaseViolations().isEmpty, "\(cluster.releaseViolations())")
        #expect(report.acknowledgedWrites > 80)
    }
}
