import Foundation

/// Wakes the machine thread when something it waits for happens on an event loop (an input from
/// a console client, an acknowledgement from the backup, a join request, a lost peer).
///
/// The machine thread takes a ``ticket``, looks at the state it cares about, and if there is
/// nothing to do waits for a ring after that ticket; a ring between the look and the wait is not
/// missed.
public final class Doorbell: @unchecked Sendable {
    private let condition = NSCondition()
    private var rings: UInt64 = 0   // guarded by condition

    public init() {}

    /// The number of rings so far.
    public var ticket: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return rings
    }

    public func ring() {
        condition.lock()
        rings &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until a ring after `ticket`, or `seconds` pass. Returns whether it rang.
    @discardableResult
    public func wait(after ticket: UInt64, seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: max(0, seconds))
        condition.lock()
        defer { condition.unlock() }
        while rings == ticket {
            if !condition.wait(until: deadline) { return rings != ticket }
        }
        return true
    }
}
