/// How a VM's service answers from outside, judged by latency percentiles rather than up/down
/// (docs/pool.md, "Health"): healthy, degraded (its p99 over the threshold: a gray failure such
/// as a host whose CPU is stolen), or failing (the last probes all went unanswered).
public struct ServiceHealth: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        case unknown, healthy, degraded, failing
    }

    public var state: State
    /// Milliseconds.
    public var p50: Double?
    public var p99: Double?
    public var p999: Double?
    /// Probes in the window, and how many failed.
    public var probes: Int
    public var failures: Int
    /// Unanswered probes in a row at the end of the window.
    public var failureStreak: Int?
    /// How many of the last ``recentProbes`` probes were answered slower than the threshold:
    /// whether a degraded p99 is the service's state now or a spike the window still remembers.
    public var recentSlow: Int?

    /// The probes that say whether the service is slow now (5 s at the default interval).
    public static let recentProbes = 10
    /// Slow probes among the last ``recentProbes`` that make a degraded service slow now (its
    /// p90 over them above the threshold), not only in its window's memory (``HealthPolicy``
    /// acts only then).
    public static let slowNowCount = 2

    /// Degraded, and at least ``slowNowCount`` of the last ``recentProbes`` probes slow.
    public var isSlowNow: Bool { state == .degraded && (recentSlow ?? 0) >= Self.slowNowCount }

    public init(state: State, p50: Double? = nil, p99: Double? = nil, p999: Double? = nil, probes: Int = 0, failures: Int = 0,
                failureStreak: Int? = nil, recentSlow: Int? = nil) {
        self.state = state
        self.p50 = p50
        self.p99 = p99
        self.p999 = p999
        self.probes = probes
        self.failures = failures
        self.failureStreak = failureStreak
        self.recentSlow = recentSlow
    }

    /// Judges `window`: failing after `failingStreak` unanswered probes in a row; degraded when
    /// p99 exceeds `thresholdMilliseconds` (with at least `minimumProbes` answers, so one slow
    /// probe does not decide); healthy otherwise; unknown before enough probes.
    public static func judge(_ window: LatencyWindow, thresholdMilliseconds: Double, failingStreak: Int = 3,
                             minimumProbes: Int = 5) -> ServiceHealth {
        let ms = { (value: Double?) in value.map { ($0 * 1000 * 100).rounded() / 100 } }
        var health = ServiceHealth(state: .unknown, p50: ms(window.percentile(0.5)), p99: ms(window.percentile(0.99)),
                                   p999: ms(window.percentile(0.999)), probes: window.samples.count, failures: window.failures,
                                   failureStreak: window.failureStreak,
                                   recentSlow: window.slowCount(last: recentProbes, above: thresholdMilliseconds / 1000))
        if window.failureStreak >= failingStreak {
            health.state = .failing
        } else if window.samples.count - window.failures < minimumProbes {
            health.state = .unknown
        } else if let p99 = health.p99, p99 > thresholdMilliseconds {
            health.state = .degraded
        } else {
            health.state = .healthy
        }
        return health
    }
}
