import Foundation

/// A thread of its own for a backend's blocking loop, which the owner waits for with ``join()``
/// (Foundation's `Thread` cannot be joined). The loop must return soon after its owner asks it to
/// (the owners wake it with a ``WakePipe``).
final class HostThread: @unchecked Sendable {
    private let handle: pthread_t
    private let lock = NSLock()
    private var isJoined = false   // guarded by lock

    /// What the new thread runs: handed to it as an opaque pointer, the only way through
    /// `pthread_create`'s C function pointer, which cannot capture.
    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a thread named `name` (Linux keeps its first 15 bytes) running `body`.
    init(name: String, body: @escaping @Sendable () -> Void) throws(NetworkBackendError) {
        // passRetained: the new thread owns this reference and releases it (takeRetainedValue)
        // exactly once; if the thread cannot be created, the release below balances it instead.
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { argument in
            // Sound: `argument` is the pointer passed below, retained for this thread.
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            Thread.current.name = start.name   // Foundation passes it to pthread_setname_np
            start.body()
            return nil
        }, start)
        guard status == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            throw .systemCall("pthread_create", reason: String(cString: strerror(status)))
        }
        self.handle = handle
    }

    /// Whether the caller runs on this thread.
    var isCurrent: Bool { pthread_equal(pthread_self(), handle) != 0 }

    /// Waits until the thread's body returned. Returns at once if it was joined already, or when
    /// called on the thread itself (which cannot wait for its own end).
    func join() {
        lock.lock()
        defer { lock.unlock() }
        guard !isJoined, !isCurrent else { return }
        pthread_join(handle, nil)
        isJoined = true
    }

    deinit {
        // A thread nobody joined releases its resources when it ends.
        if !isJoined { pthread_detach(handle) }
    }
}
