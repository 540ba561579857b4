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
        #expect(copy.next(budget: &budget) == [3, 10])
        #expect(budget == 500)
        #expect(!copy.mayFinish)
        copy.noteWritten(5...6)      // before the cursor: next round
        copy.noteWritten(95...99)    // beyond the last extent of this round: this round
        budget = 10_000
        let rest = copy.next(budget: &budget)
        #expect(Array(rest.prefix(7)) == [50, 90, 95, 96, 97, 98, 99])
        #expect(rest.suffix(2) == [5, 6])
        #expect(copy.rounds == 2)
        #expect(copy.pending.isEmpty && copy.mayFinish)
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
        #expect(copy.rest().count == 10 && copy.pending.isEmpty)
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
