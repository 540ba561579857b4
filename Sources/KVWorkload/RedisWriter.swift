import Foundation
import LockstepSupport

/// Writes to a Redis server without pause over ONE connection, remembering every acknowledged
/// write in a ``Ledger``, then reads every acknowledged key back: does a server (a guest behind a
/// failover) keep its connections and its acknowledged writes?
///
/// Write n (from 1) is `SET <prefix>-k<(n-1) mod keys> <prefix>-<n>`: the keys are written in
/// turn, every value is new, so a lost or reverted write shows at the read-back. Each write is
/// noted in the ledger before it is sent and marked acknowledged on `+OK`; one is in flight at a
/// time.
///
/// The writer never reconnects: a reset or closed connection, or a reply later than
/// ``Options/requestTimeout``, ends the write phase and is the failure reported
/// (``RedisWriterSummary/connectionKept`` false, with the error and when it came). A server's
/// error reply ends it too (the connection is kept). Otherwise the write phase ends after
/// ``Options/duration`` or when ``stop()`` is called (from any thread; the write in flight is
/// finished first).
///
/// Use ``run(progress:)``, or ``write(progress:)`` then ``verify()`` and ``summary`` to act
/// between the phases. The read-back uses the writer's connection when it is still open, else a
/// new one.
public final class RedisWriter: @unchecked Sendable {
    public struct Options: Sendable {
        /// The Redis server.
        public var endpoint: Endpoint
        /// How many keys are written in turn.
        public var keys: Int
        /// The start of every key and value (so that runs against one server do not mix).
        public var prefix: String
        /// Seconds to write for; nil: until ``RedisWriter/stop()``.
        public var duration: Double?
        /// Seconds to wait for one reply before giving the connection up.
        public var requestTimeout: Double
        /// Seconds to wait for the connection.
        public var connectTimeout: Double
        /// Seconds between two calls of the progress closure.
        public var progressInterval: Double

        public init(endpoint: Endpoint, keys: Int = 1000, prefix: String = RedisWriter.randomPrefix(), duration: Double? = nil,
                    requestTimeout: Double = 5, connectTimeout: Double = 2, progressInterval: Double = 1) {
            self.endpoint = endpoint
            self.keys = keys
            self.prefix = prefix
            self.duration = duration
            self.requestTimeout = requestTimeout
            self.connectTimeout = connectTimeout
            self.progressInterval = progressInterval
        }
    }

    /// Figures of a write phase in progress.
    public struct Progress: Sendable {
        /// Seconds since the write phase started.
        public var seconds: Double
        public var acknowledgedWrites: Int
        /// The longest time between two acknowledgements so far, in seconds.
        public var longestGap: Double
    }

    public let options: Options

    private let lock = NSLock()
    private var stopRequested = false
    private var liveAcknowledged = 0
    private var client: RedisClient?
    private var written: WritePhase?
    private var verification: VerificationPhase?

    /// What the write phase found.
    private struct WritePhase {
        var ledger = Ledger()
        var seconds = 0.0
        var sent = 0
        var latencies: [Double] = []
        var longestGap = 0.0
        var perSecond: [Int] = []
        var connectionKept = false
        var error: RedisError?
        var errorAfter: Double?
    }

    /// What the read-back found.
    private struct VerificationPhase {
        var report = VerificationReport()
        var error: RedisError?
        var onNewConnection = false
    }

    public init(options: Options) {
        self.options = options
    }

    /// A short random prefix: `rw` and four hex digits.
    public static func randomPrefix() -> String {
        "rw" + String(UInt16.random(in: 0x1000...0xFFFF), radix: 16)
    }

    /// Ends the write phase after the write in flight (from any thread, also before it started).
    public func stop() {
        lock.withLock { stopRequested = true }
    }

    /// Writes acknowledged so far (from any thread).
    public var acknowledgedWrites: Int { lock.withLock { liveAcknowledged } }

    /// Every acknowledged write (complete once ``write(progress:)`` has returned).
    public var ledger: Ledger { lock.withLock { written?.ledger ?? Ledger() } }

    /// Connects, writes and reads back; returns the summary.
    public func run(progress: (Progress) -> Void = { _ in }) -> RedisWriterSummary {
        write(progress: progress)
        verify()
        return summary
    }

    /// The write phase: connects and writes until the duration is over, ``stop()`` is called or
    /// the connection fails. Calls `progress` every ``Options/progressInterval`` seconds.
    public func write(progress: (Progress) -> Void = { _ in }) {
        var phase = WritePhase()
        let started = monotonicSeconds()
        defer {
            phase.seconds = monotonicSeconds() - started
            let finished = phase
            lock.withLock { written = finished }
        }
        let client: RedisClient
        do {
            client = try RedisClient(endpoint: options.endpoint, connectTimeout: options.connectTimeout,
                                     requestTimeout: options.requestTimeout)
        } catch {
            phase.error = error
            phase.errorAfter = monotonicSeconds() - started
            return
        }
        lock.withLock { self.client = client }
        phase.connectionKept = true
        let stopAt = options.duration.map { started + $0 }
        let keys = max(1, options.keys)
        var lastAcknowledgement: Double?
        var nextProgress = started + options.progressInterval
        var n = 0
        var stopped = lock.withLock { stopRequested }
        while !stopped, stopAt.map({ monotonicSeconds() < $0 }) ?? true {
            n += 1
            let key = "\(options.prefix)-k\((n - 1) % keys)"
            let value = "\(options.prefix)-\(n)"
            phase.ledger.willWrite(key: key, value: value)
            phase.sent += 1
            let sent = monotonicSeconds()
            do {
                try client.set(key, value)
            } catch {
                phase.error = error
                phase.errorAfter = monotonicSeconds() - started
                phase.connectionKept = !error.endsConnection
                break
            }
            let acknowledged = monotonicSeconds()
            phase.ledger.acknowledged(key: key, value: value)
            phase.latencies.append(acknowledged - sent)
            if let lastAcknowledgement { phase.longestGap = max(phase.longestGap, acknowledged - lastAcknowledgement) }
            lastAcknowledgement = acknowledged
            let second = Int(acknowledged - started)
            if phase.perSecond.count <= second { phase.perSecond += Array(repeating: 0, count: second + 1 - phase.perSecond.count) }
            phase.perSecond[second] += 1
            stopped = lock.withLock {
                liveAcknowledged += 1
                return stopRequested
            }
            if acknowledged >= nextProgress {
                nextProgress = acknowledged + options.progressInterval
                progress(Progress(seconds: acknowledged - started, acknowledgedWrites: phase.ledger.acknowledgedWrites,
                                  longestGap: phase.longestGap))
            }
        }
    }

    /// The read-back: GETs every acknowledged key, on the writer's connection if it is still
    /// open, else on a new one, and checks each against the ledger. Stops at the first failure
    /// (reported in the summary with what was read before it).
    public func verify() {
        let (ledger, current) = lock.withLock { (written?.ledger ?? Ledger(), client) }
        var phase = VerificationPhase()
        phase.report.acknowledgedWrites = ledger.acknowledgedWrites
        defer {
            let finished = phase
            lock.withLock { verification = finished; client = nil }
        }
        let reader: RedisClient
        if let current, current.isOpen {
            reader = current
        } else {
            phase.onNewConnection = true
            do {
                reader = try RedisClient(endpoint: options.endpoint, connectTimeout: options.connectTimeout,
                                         requestTimeout: options.requestTimeout)
            } catch {
                phase.error = error
                return
            }
        }
        defer { reader.close() }
        for key in ledger.values.keys.sorted() {
            let found: String?
            do {
                found = try reader.get(key)
            } catch {
                phase.error = error
                return
            }
            phase.report.keysChecked += 1
            if let lost = ledger.check(key: key, found: found) {
                phase.report.lost.append(lost)
            } else if found != ledger.values[key] {
                phase.report.unacknowledgedApplied += 1
            }
        }
    }

    /// The figures of the phases run so far.
    public var summary: RedisWriterSummary {
        let (written, verification) = lock.withLock { (self.written ?? WritePhase(), self.verification) }
        return RedisWriterSummary(
            endpoint: options.endpoint.description, prefix: options.prefix, keys: max(1, options.keys), seconds: written.seconds,
            writesSent: written.sent, acknowledgedWrites: written.ledger.acknowledgedWrites, keysWritten: written.ledger.keyCount,
            longestGap: written.longestGap, latencies: written.latencies, acknowledgedPerSecond: written.perSecond,
            connectionKept: written.connectionKept, error: written.error, errorAfterSeconds: written.errorAfter,
            verification: verification?.report, keysVerified: verification?.report.keysChecked ?? 0,
            verifiedOnNewConnection: verification?.onNewConnection ?? false, verificationError: verification?.error)
    }
}
