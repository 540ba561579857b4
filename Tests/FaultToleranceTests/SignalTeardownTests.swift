import FaultInjection
import Foundation
import Synchronization
import Testing

/// The registry behind `lockstep-soak`'s teardown on SIGINT and SIGTERM, without a signal: what
/// is registered runs newest first (a running command is killed before its lab's namespaces are
/// deleted), what was cancelled does not run, and a second teardown finds nothing to do.
/// (SoakTeardownTests sends the real signals to a real soak.)
@Suite struct SignalTeardownTests {
    @Test func actionsRunNewestFirstAndCancelledOnesNot() {
        let teardown = SignalTeardown()
        let order = Mutex<[String]>([])
        teardown.register { order.withLock { $0.append("lab") } }
        let finished = teardown.register { order.withLock { $0.append("finished command") } }
        teardown.register { order.withLock { $0.append("running command") } }
        finished.cancel()
        #expect(teardown.registeredCount == 2)
        #expect(teardown.runActions())
        #expect(order.withLock { $0 } == ["running command", "lab"])
        #expect(teardown.registeredCount == 0)
        #expect(teardown.runActions(), "a later teardown runs, with nothing left to do")
        #expect(order.withLock { $0 }.count == 2)
    }
}
