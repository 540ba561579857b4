@_spi(Simulation) import Replication

/// A node's event loop, as SwiftNIO runs it for `lockstep node`: the console's connections live
/// on it, so a console write made on it goes out at once, while one made on another thread (the
/// machine thread) is queued and goes out when the loop gets to it, a moment later (``latency``).
/// Nothing runs on it while the node is frozen (a stopped process); what was queued runs after
/// the thaw, unless the process died meanwhile. The primary's releases run on it
/// (``ReleaseThread``), and so does what the link receives.
final class SimulatedLoop: ReleaseThread {
    /// From the machine thread's hand-over to the loop running the task. Fixed, so that it draws
    /// nothing from the seed.
    static let latency = 50e-6

    private let queue: EventQueue
    private unowned let node: SimulatedNode
    private(set) var isCurrent = false
    /// Tasks handed over and not run yet.
    private(set) var queued = 0

    init(queue: EventQueue, node: SimulatedNode) {
        self.queue = queue
        self.node = node
    }

    func execute(_ body: @escaping () -> Void) {
        let incarnation = node.incarnation
        queued += 1
        queue.schedule(after: Self.latency) { [self] in run(body, incarnation: incarnation) }
    }

    /// The machine thread waits for the loop: in virtual time, at once.
    func executeAndWait(_ body: @escaping () -> Void) { inside(body) }

    /// Runs `body` as the loop (an event the loop handles: a message on a line).
    func inside(_ body: () -> Void) {
        let was = isCurrent
        isCurrent = true
        body()
        isCurrent = was
    }

    private func run(_ body: @escaping () -> Void, incarnation: UInt64) {
        guard node.incarnation == incarnation else {   // the process died: its queue with it
            queued -= 1
            return
        }
        if let thaw = node.frozenUntil, thaw > queue.now {
            queue.schedule(at: thaw) { [self] in run(body, incarnation: incarnation) }
            return
        }
        queued -= 1
        inside(body)
    }
}
