import NIOCore

/// How often the nodes tell each other they are alive, and how long a silence means death.
public struct HeartbeatSettings: Sendable, Equatable {
    /// Between two heartbeats on each line.
    public var interval: Double
    /// A line silent this long is closed (and reported); the peer is declared dead only when
    /// every line has been silent this long.
    public var timeout: Double

    /// How long a new connection may take to authenticate before it is closed.
    var handshakeTimeout: TimeAmount { .milliseconds(Int64(max(1.0, 2 * timeout) * 1000)) }

    public init(interval: Double = 0.05, timeout: Double = 0.4) {
        precondition(interval > 0 && timeout > interval)
        self.interval = interval
        self.timeout = timeout
    }
}

/// Who said what when, per line: decides when a line is silent and when the peer is dead.
/// Pure bookkeeping (times are passed in), so that it can be tested without sockets.
struct SilenceMonitor {
    let timeout: Double
    private(set) var lastHeard: [Int: Double] = [:]
    /// The last time anything was heard on any line (or the moment watching began).
    private(set) var lastHeardAny: Double

    init(timeout: Double, now: Double) {
        self.timeout = timeout
        lastHeardAny = now
    }

    mutating func heard(line: Int, at now: Double) {
        lastHeard[line] = now
        lastHeardAny = max(lastHeardAny, now)
    }

    mutating func forget(line: Int) { lastHeard[line] = nil }

    /// Restarts the clock (a new peer).
    mutating func reset(now: Double) {
        lastHeard = [:]
        lastHeardAny = now
    }

    /// Lines whose last message is older than the timeout.
    func silentLines(at now: Double) -> [Int] {
        lastHeard.filter { now - $0.value > timeout }.map(\.key).sorted()
    }

    /// Whether every line has been silent (or gone) for the timeout.
    func peerIsDead(at now: Double) -> Bool { now - lastHeardAny > timeout }
}
