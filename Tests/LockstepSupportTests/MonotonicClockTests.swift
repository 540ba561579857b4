import Foundation
import LockstepSupport
import Testing

@Suite struct MonotonicClockTests {
    @Test func theClockMovesForwardWithRealTime() {
        let start = monotonicSeconds()
        Thread.sleep(forTimeInterval: 0.05)
        let passed = monotonicSeconds() - start
        #expect(passed >= 0.04 && passed < 5)
    }
}
