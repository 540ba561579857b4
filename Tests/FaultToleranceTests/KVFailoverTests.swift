import CTestProcessSetup
import FaultInjection
import Foundation
import Testing

/// The fast fault-injection set that CI runs: the key-value guest on two nodes under a continuous
/// write load, each fault once (SIGKILL of the primary, of the backup, a silent line, a partition,
/// the arbiter stopped), every acknowledged write read back after each, and the release log
/// checked for two primaries; with each arbiter backend (the built-in server, a lock file, a
/// three-member etcd cluster that loses its quorum in the arbiter round). `lockstep-soak run --rounds N` runs as many as asked.
@Suite(.serialized) struct KVFailoverTests {
    @Test(arguments: [Cluster.ArbiterKind.server, .file, .etcd])
    func everyFaultOnceLosesNoAcknowledgedWrite(arbiter: Cluster.ArbiterKind) throws {
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = arbiter
        let directory = temporaryDirectory("kv-soak")
        let soak = try Soak(options: options, directory: directory)
        defer { soak.stop(); removeTemporaryDirectory(directory) }
        try soak.start()
        var random = SystemRandomNumberGenerator()
        for fault in Fault.allCases + [.killPrimary] {
            let round = try soak.round(fault, using: &random)
            #expect(round.lostWrites.isEmpty, "\(round)\n\(round.lostWrites)\n\(soak.cluster.logs)")
            #expect(round.splitBrain.isEmpty, "\(round)\n\(round.splitBrain)\n\(soak.cluster.logs)")
        }
        #expect((soak.rounds.last?.acknowledgedWrites ?? 0) > 100)
        #expect(soak.writer.failedRequests.isEmpty, "\(soak.writer.failedRequests)")
    }
}

/// The split-brain check itself finds what it is meant to find.
@Suite struct ReleaseLogCheckTests {
    @Test func overlappingGenerationsAreReported() {
        let clean = "100 1 A 5\n200 1 A 3\n300 2 B 4\n400 2 B 1\n"
        #expect(ReleaseLogCheck.violations(in: ReleaseLogCheck.parse(clean)).isEmpty)
        let stale = "100 1 A 5\n300 2 B 4\n350 1 A 2\n"
        #expect(ReleaseLogCheck.violations(in: ReleaseLogCheck.parse(stale)).count == 1)
        let shared = "100 1 A 5\n200 1 B 4\n"
        #expect(ReleaseLogCheck.violations(in: ReleaseLogCheck.parse(shared)).count == 1)
    }

    /// Decided and done times: a write decided after the newer generation's first is a
    /// violation; one decided before it whose return came after it (a stop between the two
    /// readings, as KVFailoverTests' freeze round showed) is a stalled write, not a violation.
    @Test func aWriteIsJudgedByTheReadingThatDecidedIt() {
        let clean = "100 110 1 A 5\n200 210 1 A 3\n500 510 2 B 4\n"
        #expect(ReleaseLogCheck.violations(in: ReleaseLogCheck.parse(clean)).isEmpty)
        #expect(ReleaseLogCheck.stalledWrites(in: ReleaseLogCheck.parse(clean)).isEmpty)
        // A was stopped inside its write at 200 and returned at 4200, after B's first write at 500.
        let stalled = "100 110 1 A 5\n200 4200 1 A 3\n500 510 2 B 4\n600 610 2 B 1\n"
        #expect(ReleaseLogCheck.violations(in: ReleaseLogCheck.parse(stalled)).isEmpty)
        let found = ReleaseLogCheck.stalledWrites(in: ReleaseLogCheck.parse(stalled))
        #expect(found.count == 1)
        #expect(found.first?.contains("generation 1 (3 bytes)") == true)
        // A decided a write after B's first: the lease failed.
        let late = "100 110 1 A 5\n500 510 2 B 4\n700 710 1 A 3\n"
        let violations = ReleaseLogCheck.violations(in: ReleaseLogCheck.parse(late))
        #expect(violations.count == 1)
        #expect(violations.first?.hasPrefix("A released output at generation 1 after B had released at generation 2") == true)
        // A line of neither form is skipped.
        #expect(ReleaseLogCheck.parse("1 2 3\nnot a line at all\n").isEmpty)
    }
}

@Suite struct TestProcessSetupTests {
    @Test func sigpipeIsIgnoredInTheTestProcess() {
        #expect(lockstep_tests_sigpipe_ignored() == 1)
    }
}
