import HostIO
@testable import Replication
import Testing

/// The bookkeeping of a live disk copy: extents go in disk order within the budget, what the
/// guest writes meanwhile goes again (in a new round), and the final pause may come only when
/// little is left or the rounds run out. And the copy's rate: a token bucket with bounded bursts.
@Suite struct DiskCopyTests {
    @Test func extentsGoInOrderAndRewrittenOnesGoAgainInANewRound() {
        var plan = ExtentSet(extentCount: 100)
        for index in [3, 10, 50, 90] { plan.insert(index) }
        var copy = DiskCopy(plan: plan, extentBytes: 1000, finalExtents: 1)
        var budget = 2500.0
        #expect(copy.next(budget: &budget).map(\.index) == [3, 10])
        #expect(budget == 500)
        #expect(!copy.mayFinish)
        copy.noteWritten(5...6)      // before the cursor: next round
        copy.noteWritten(95...99)    // beyond the last extent of this round: this round
        budget = 10_000
        let rest = copy.next(budget: &budget).map(\.index)
        #expect(Array(rest.prefix(7)) == [50, 90, 95, 96, 97, 98, 99])
        #expect(rest.suffix(2) == [5, 6])
        #expect(copy.rounds == 2)
        #expect(copy.pendingCount == 0 && copy.mayFinish)
    }

    @Test func theFinalPauseWaitsForLittleLeftOrTheLastRound() {
        var copy = DiskCopy(plan: .all(10), extentBytes: 1, finalExtents: 2, maximumRounds: 2)
        #expect(!copy.mayFinish)
        var budget = 8.0
        _ = copy.next(budget: &budget)
        #expect(copy.mayFinish)   // 2 left
        copy.noteWritten(0...5)   // a guest writing faster than the copy
        #expect(!copy.mayFinish)
        budget = 100
        _ = copy.next(budget: &budget)   // the rest of round 1, then round 2
        #expect(copy.rounds == 2)
        copy.noteWritten(0...9)
        #expect(!copy.mayFinish)
        budget = 10
        _ = copy.next(budget: &budget)   // the rest of round 2 (6...9), then round 3 (0...5)
        copy.noteWritten(0...9)
        #expect(copy.rounds == 3 && copy.mayFinish)   // past the last round: finish whatever is left
        #expect(copy.rest().count == 10 && copy.pendingCount == 0)
    }

    /// Two disks (extents of different sizes): a round goes through the first disk, then the
    /// second; a write to either goes again; the budget counts each disk's extent size; the final
    /// pause counts what is left on both.
    @Test func twoDisksAreCopiedInTurnAndEachDisksWritesGoAgain() {
        var first = ExtentSet(extentCount: 10), second = ExtentSet(extentCount: 20)
        for index in [2, 7] { first.insert(index) }
        for index in [0, 19] { second.insert(index) }
        var copy = DiskCopy(plans: [first, second], extentBytes: [1000, 100], finalExtents: 1)
        #expect(copy.plannedExtents == [2, 2] && copy.pendingCount == 4 && !copy.mayFinish)
        var budget = 2100.0
        #expect(copy.next(budget: &budget) == [.init(disk: 0, index: 2), .init(disk: 0, index: 7), .init(disk: 1, index: 0)])
        #expect(budget == 0)
        copy.noteWritten(disk: 0, 3...3)    // disk 1 is behind the cursor: next round
        copy.noteWritten(disk: 1, 5...6)    // ahead of it on disk 2: this round
        copy.noteWritten(disk: 2, 0...1)    // no such disk: ignored
        copy.noteWritten(disk: 1, 18...25)  // clipped to the disk
        #expect(copy.pendingCount == 5)
        budget = 500
        #expect(copy.next(budget: &budget) == [5, 6, 18, 19].map { .init(disk: 1, index: $0) })
        #expect(copy.rounds == 1 && budget == 100)
        // Not enough for disk 1's next extent (1000 bytes): nothing, and no new round begun.
        #expect(copy.next(budget: &budget).isEmpty && copy.rounds == 1)
        #expect(copy.mayFinish)   // 1 left, on disk 1
        budget = 1000
        #expect(copy.next(budget: &budget) == [.init(disk: 0, index: 3)])
        #expect(copy.rounds == 2 && copy.pendingCount == 0)
        copy.noteWritten(disk: 1, 1...2)
        copy.noteWritten(disk: 0, 9...9)
        #expect(copy.rest() == [.init(disk: 0, index: 9), .init(disk: 1, index: 1), .init(disk: 1, index: 2)])
        #expect(copy.pendingCount == 0)
    }

    @Test func theRateRefillsWithTimeAndBoundsBursts() {
        var rate = CopyRate(bytesPerSecond: 1000, unit: 10, now: 0)
        #expect(rate.budget(now: 0) == 10)   // the first unit at once
        rate.keep(0)
        #expect(rate.wait == 0.01)
        #expect(rate.budget(now: 0.05) == 50)
        rate.keep(0)
        #expect(rate.budget(now: 100) == 100)   // a tenth of a second's worth at most
    }
}
