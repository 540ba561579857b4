import Foundation
import KVWorkload
import LockstepSupport

/// A client writing to the guest's key-value service on its own thread, without pause, through
/// every failover, remembering every acknowledged write in one ledger for the whole run. Each
/// write has a new value, so a lost or reverted write shows at verification.
public final class BackgroundWriter: @unchecked Sendable {
    let endpoints: [Endpoint]
    let keys: Int
    private let lock = NSLock()
    private var ledger = Ledger()
    private var running = false
    private var thread: Thread?
    private var finished = DispatchSemaphore(value: 0)
    private var counter = 0
    private var lastAcknowledgement = Date()
    private var longestGap = 0.0
    private var failures: [String] = []
    private var incarnation = 0
    public private(set) var reconnects = 0

    public init(endpoints: [String], keys: Int = 50) throws {
        self.endpoints = try endpoints.map { text throws in try Endpoint(parsing: text, allowsPortZero: false) }
        self.keys = keys
    }

    /// Writes acknowledged so far.
    public var acknowledged: Int { lock.withLock { ledger.acknowledgedWrites } }

    /// The longest time between two acknowledgements since the last ``resetGap()``.
    public var longestGapSeconds: Double { lock.withLock { longestGap } }

    public func resetGap() { lock.withLock { longestGap = 0; lastAcknowledgement = Date() } }

    /// Requests that failed even after the client's own retries (the service was unavailable for
    /// its whole deadline).
    public var failedRequests: [String] { lock.withLock { failures } }

    public func start() {
        lock.withLock {
            running = true
            incarnation += 1
            lastAcknowledgement = Date()
        }
        finished = DispatchSemaphore(value: 0)
        let name = "w\(lock.withLock { incarnation })"
        let thread = Thread { [self] in loop(name: name) }
        self.thread = thread
        thread.start()
    }

    /// Stops writing (after the request in flight) and waits for the thread. Does nothing when
    /// the writer is not running (never started, or already stopped), so that a test's cleanup
    /// after a failed setup returns instead of waiting for a thread that never ran.
    public func stop() {
        let wasRunning = lock.withLock {
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        finished.wait()
    }

    /// Waits until `count` more writes have been acknowledged.
    public func waitForProgress(_ count: Int, seconds: Double) throws {
        let target = acknowledged + count
        let deadline = Date(timeIntervalSinceNow: seconds)
        while acknowledged < target {
            if Date() > deadline {
                throw FaultInjectionError.timeout("the writer made \(acknowledged - (target - count)) of \(count) writes in \(seconds) s")
            }
            usleep(10_000)
        }
    }

    /// Reads every acknowledged key back (the writer must be stopped).
    public func verify() throws -> VerificationReport {
        let client = try KVClient(endpoints: endpoints, name: "verify\(lock.withLock { incarnation })",
                                  options: KVClient.Options(requestTimeout: 2, connectTimeout: 1, deadline: 30))
        defer { client.close() }
        let snapshot = lock.withLock { ledger }
        return try snapshot.verify(using: client)
    }

    private func loop(name: String) {
        defer { finished.signal() }
        let client: KVClient
        do {
            client = try KVClient(endpoints: endpoints, name: name, options: KVClient.Options(requestTimeout: 2, connectTimeout: 1, deadline: 30))
        } catch {
            lock.withLock { failures.append("\(error)") }
            return
        }
        defer {
            lock.withLock { reconnects += client.reconnects }
            client.close()
        }
        while lock.withLock({ running }) {
            let (key, value): (String, String) = lock.withLock {
                counter += 1
                let key = "k\(counter % keys)", value = "v\(counter)"
                ledger.willWrite(key: key, value: value)
                return (key, value)
            }
            do {
                try client.set(key, to: value)
                lock.withLock {
                    ledger.acknowledged(key: key, value: value)
                    let now = Date()
                    longestGap = max(longestGap, now.timeIntervalSince(lastAcknowledgement))
                    lastAcknowledgement = now
                }
            } catch {
                lock.withLock { failures.append("SET \(key) \(value): \(error)") }
            }
        }
    }
}
