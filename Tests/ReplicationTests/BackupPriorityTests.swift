@testable import Replication
import Testing

/// The backup's replay priority follows its lag in time, driven here with a virtual clock.
@Suite struct BackupPriorityTests {
    @Test func aBackupThatKeepsUpStaysAtTheLowestPriority() {
        var priority = BackupPriority()
        #expect(priority.wanted(backlog: 0, now: 0) == 19)   // joined and caught up
        // A busy primary: each step finds a slice or two to execute, gets through them in
        // 10 ms and has then executed everything, for ten seconds.
        var now = 0.0
        for step in 0..<1_000 {
            #expect(priority.wanted(backlog: 2_000_000 + UInt64(step % 3) * 1_000_000, now: now) == 19)
            #expect(priority.wanted(backlog: 1_000_000, now: now + 0.005) == 19)
            #expect(priority.wanted(backlog: 0, now: now + 0.01) == 19)
            now += 0.01
        }
        // Waiting for the log is not lag: work found after a long wait starts a new measure.
        #expect(priority.wanted(backlog: 3_000_000, now: now + 5) == 19)
        #expect(priority.wanted(backlog: 1_000_000, now: now + 5.04) == 19)
    }

    @Test func aBackupBehindForLongerThanTheLimitGetsNormalPriorityUntilItCatchesUp() {
        var priority = BackupPriority()
        #expect(priority.wanted(backlog: 0, now: 10) == 19)
        // Work for a few slices: still at 19 for the first 50 ms...
        #expect(priority.wanted(backlog: 6_000_000, now: 10.01) == 19)
        #expect(priority.wanted(backlog: 5_000_000, now: 10.059) == 19)
        // ... and raised once it has not caught up for longer, however little is left.
        #expect(priority.wanted(backlog: 100_000, now: 10.061) == 0)
        #expect(priority.wanted(backlog: 50_000, now: 10.2) == 0)
        // Caught up: lowered, and the next work is timed from when it is found.
        #expect(priority.wanted(backlog: 0, now: 10.3) == 19)
        #expect(priority.wanted(backlog: 3_000_000, now: 11) == 19)
        #expect(priority.wanted(backlog: 2_000_000, now: 11.04) == 19)
        #expect(priority.wanted(backlog: 1_000_000, now: 11.06) == 0)
    }

    @Test func aLongBacklogRaisesAtOnce() {
        var priority = BackupPriority()
        #expect(priority.wanted(backlog: 0, now: 1) == 19)
        #expect(priority.wanted(backlog: 30_000_000, now: 1.001) == 0)
        #expect(priority.wanted(backlog: 10_000_000, now: 1.002) == 0)
        #expect(priority.wanted(backlog: 0, now: 1.5) == 19)
    }

    @Test func aNewBackupIsBehindUntilItFirstCatchesUp() {
        // The log since the copy: normal priority however long it takes, then 19.
        var priority = BackupPriority()
        #expect(priority.wanted(backlog: 5_000_000, now: 0) == 0)
        #expect(priority.wanted(backlog: 100_000, now: 0.01) == 0)
        #expect(priority.wanted(backlog: 0, now: 0.02) == 19)
    }
}
