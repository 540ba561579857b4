import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Cleanup that must also happen when the process is stopped by SIGINT or SIGTERM, not only at a
/// normal end: a ``NetworkLab`` deletes its namespaces (and with them its links), a lab's
/// processes are killed, a ``LabCluster`` removes its disk images, a running short command is
/// killed.
///
/// Each of those registers an action here while it holds something (``register(_:)``) and
/// cancels it once it has cleaned up by itself. Nothing happens on a signal until a program calls
/// ``install()`` (`lockstep-soak` does, first thing): from then on SIGINT and SIGTERM are taken by
/// Dispatch signal sources, and the first one runs every registered action, newest first, on a
/// queue of its own, then ends the process by that same signal (so that its parent sees "killed by
/// SIGTERM", exit status 143 in a shell). A second signal while the actions run is ignored.
///
/// The program's own thread goes on meanwhile, and may notice that its processes died or that its
/// lab is gone and end: an `atexit` hook makes an `exit` during the teardown wait for it, so the
/// process never ends half-way through deleting its namespaces.
public final class SignalTeardown: @unchecked Sendable {
    /// The one instance every lab, cluster and command registers with.
    public static let shared = SignalTeardown()

    /// The signals that tear down.
    public static let signals: [Int32] = [SIGINT, SIGTERM]

    /// A registered action; ``cancel()`` removes it (after cleaning up by other means).
    public final class Registration: @unchecked Sendable {
        let id: Int
        weak var owner: SignalTeardown?

        init(id: Int, owner: SignalTeardown) {
            self.id = id
            self.owner = owner
        }

        /// Removes the action (it will not run on a signal). Idempotent.
        public func cancel() { owner?.remove(id) }
    }

    private let lock = NSLock()
    private var actions: [(id: Int, action: @Sendable () -> Void)] = []
    private var nextID = 0
    private var sources: [DispatchSourceSignal] = []
    private var tearingDown = false
    private let finished = DispatchGroup()
    private let queue = DispatchQueue(label: "lockstep.signal-teardown")
    /// Told the signal's name before the actions run (`lockstep-soak` says what it does).
    private var announce: (@Sendable (String) -> Void)?

    /// An instance of its own (for tests: labs and commands register with ``shared``).
    public init() {}

    /// Takes SIGINT and SIGTERM from now on (see the type's description). `announce` is called
    /// with the signal's name ("SIGTERM") before the actions run. Idempotent. Meant for
    /// ``shared`` (the `exit` hook waits for it).
    public func install(announce: (@Sendable (String) -> Void)? = nil) {
        lock.withLock {
            self.announce = announce
            guard sources.isEmpty else { return }
            atexit { SignalTeardown.shared.waitForTeardown() }
            for signalNumber in Self.signals {
                // Ignored first so that the default action (ending the process at once) cannot win
                // the race with the source; libdispatch then catches it itself.
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler { [unowned self] in self.tearDown(signal: signalNumber) }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Registers `action`, to run if a signal arrives before the registration is cancelled.
    @discardableResult
    public func register(_ action: @escaping @Sendable () -> Void) -> Registration {
        lock.withLock {
            nextID += 1
            actions.append((nextID, action))
            return Registration(id: nextID, owner: self)
        }
    }

    /// The number of registered actions (for tests).
    public var registeredCount: Int { lock.withLock { actions.count } }

    /// Runs every registered action, newest first, as a signal would, but without ending the
    /// process (for tests, and for a program that wants the same teardown at another moment).
    /// Returns false, doing nothing, while another teardown runs.
    @discardableResult
    public func runActions() -> Bool {
        guard let pending = begin() else { return false }
        for (_, action) in pending { action() }
        let ran = Set(pending.map(\.id))
        lock.withLock {
            actions.removeAll { ran.contains($0.id) }
            tearingDown = false
        }
        finished.leave()
        return true
    }

    private func remove(_ id: Int) {
        lock.withLock { actions.removeAll { $0.id == id } }
    }

    /// Marks a teardown as running and returns the actions to run, newest first; nil when one
    /// runs already.
    private func begin() -> [(id: Int, action: @Sendable () -> Void)]? {
        lock.withLock {
            guard !tearingDown else { return nil }
            tearingDown = true
            finished.enter()
            return actions.reversed()
        }
    }

    private func tearDown(signal signalNumber: Int32) {
        // A second signal finds the teardown running and is ignored.
        guard let pending = begin() else { return }
        let name = signalNumber == SIGINT ? "SIGINT" : signalNumber == SIGTERM ? "SIGTERM" : "signal \(signalNumber)"
        lock.withLock { announce }?(name)
        for (_, action) in pending { action() }
        fflush(nil)
        // End by the same signal: its default action, delivered to this thread.
        signal(signalNumber, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signalNumber)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(signalNumber)
        _exit(128 + signalNumber)
    }

    /// Called by `exit`: waits until a teardown that has started is over.
    private func waitForTeardown() {
        let running = lock.withLock { tearingDown }
        if running { finished.wait() }
    }
}
