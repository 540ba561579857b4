import NIOCore

/// The thread on which a ``PrimaryRole`` releases output: it reads the clock for the lease and
/// writes each output itself, right after, so that the write is a system call microseconds after
/// the check on the same thread.
///
/// Why it matters: a write handed to another thread (SwiftNIO queues a `writeAndFlush` from a
/// thread other than the channel's event loop as a task for that loop) leaves whenever that
/// thread gets to it. A process stopped (SIGSTOP, a stalled host) between the hand-over and the
/// write sends, once it thaws, output whose lease ran out during the stop, possibly after the
/// backup went live. In `lockstep node` this is the event loop that serves the console's
/// connections (and the lines); the machine thread asks it to release and never writes
/// released output itself. The simulation passes its model of that loop; a role given none
/// releases on the caller's thread.
public protocol ReleaseThread: AnyObject {
    /// Whether the caller runs on this thread now.
    var isCurrent: Bool { get }
    /// Runs `body` on this thread, after what was asked of it before.
    func execute(_ body: @escaping () -> Void)
    /// Runs `body` on this thread and returns once it has run (not to be called on it).
    func executeAndWait(_ body: @escaping () -> Void)
}

/// A SwiftNIO event loop as the ``ReleaseThread``: the loop of the console's connections, so
/// that a release's writes are performed at once rather than queued.
public final class EventLoopReleaseThread: ReleaseThread, @unchecked Sendable {
    public let loop: any EventLoop

    public init(loop: any EventLoop) { self.loop = loop }

    public var isCurrent: Bool { loop.inEventLoop }

    public func execute(_ body: @escaping () -> Void) {
        let task = UncheckedTask(body)
        loop.execute { task.body() }
    }

    public func executeAndWait(_ body: @escaping () -> Void) {
        let task = UncheckedTask(body)
        try? loop.submit { task.body() }.wait()
    }

    /// The role's release is not `Sendable`: the role guards what it shares with its lock.
    private struct UncheckedTask: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
}
