#if canImport(Glibc)
import Glibc
#endif

/// The backup's replay thread's scheduling priority, by how long it has been behind the log.
///
/// While the backup keeps up, its replay runs at the lowest priority (nice 19), so that on a
/// host it shares with busy work the threads a client waits on win the cores (docs/benchmarks.md,
/// issue 14). But at nice 19 beside busy threads of normal priority the replay gets a few percent
/// of a core: a backup that falls behind then stays behind, its primary throttles (at
/// `maximumBackupLag`) and the guest stands still, a planned switchover never sees its backup
/// catch up, and a failover must first execute the whole backlog (all seen in CI with other tests
/// on the cores). So the priority follows the lag measured in time: from the moment the replay
/// finds work after having executed everything it had received, it has ``behindLimit`` seconds to
/// get through it at nice 19; past that (or with more than ``raiseAbove`` instructions to
/// execute) the thread goes back to normal priority, and down again when it has caught up. The
/// lag a backup builds up behind a busy primary is so bounded by about ``behindLimit`` of
/// replay, not by the primary's throttle.
///
/// (The copy of a joining backup runs on the same thread before any log is executed, so at the
/// priority the thread started with: normal.)
///
/// A pure state machine (``wanted(backlog:now:)``, no clock of its own); ``BackupPriorityControl``
/// applies its answers to the calling thread.
struct BackupPriority {
    /// The replay thread's nice value while it keeps up (19: the lowest priority).
    static let keepingUp: Int32 = 19
    /// Its nice value while it is behind (normal priority).
    static let behind: Int32 = 0
    /// A fifth of the primary's default throttle (100 M instructions): behind at once.
    static let raiseAbove: UInt64 = 20_000_000
    /// Seconds of work the replay may take at the lowest priority before it is behind.
    static let behindLimit: Double = 0.05

    /// A new backup starts behind: its join, the copy and the log since are work to get through
    /// at normal priority (a copy at nice 19 beside busy work took two minutes in a loaded test,
    /// with the primary's guest throttled all along). It is lowered when it first catches up.
    private(set) var nice: Int32 = BackupPriority.behind
    /// Since when the replay has had work without catching up (nil: it is caught up).
    private var workingSince: Double?

    /// The nice value the replay should run at with `backlog` instructions left to the newest
    /// entry it received (0: it has executed everything), at `now` (seconds, any monotonic base).
    mutating func wanted(backlog: UInt64, now: Double) -> Int32 {
        guard backlog > 0 else {
            workingSince = nil
            nice = Self.keepingUp
            return nice
        }
        let since = workingSince ?? now
        workingSince = since
        if backlog > Self.raiseAbove || now - since > Self.behindLimit {
            nice = Self.behind
        }
        return nice
    }
}

/// Applies ``BackupPriority``'s answers to the calling thread (on the backup's replay thread).
/// Raising a priority needs the privilege to (root, CAP_SYS_NICE or RLIMIT_NICE); without it the
/// thread stays at nice 19, as before.
struct BackupPriorityControl {
    private var policy = BackupPriority()
    /// The nice value the thread has (nil: not set yet).
    private var applied: Int32?
    /// Whether the system refused to lower the priority at all (then nothing is tried again).
    private var unsupported = false
    /// Whether it refused to raise it back (then only lowering is tried).
    private var cannotRaise = false

    mutating func update(backlog: UInt64, now: Double) {
        let nice = policy.wanted(backlog: backlog, now: now)
        guard !unsupported, nice != applied, !(cannotRaise && nice < (applied ?? .max)) else { return }
        #if os(Linux)
        // On Linux the nice value is a thread's own, and `who` 0 names the calling thread
        // (setpriority(2), "Bugs": per-thread under NPTL).
        if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) == 0 {
            applied = nice
        } else if applied == nil {
            unsupported = true   // could not even lower: do not try again and again
        } else {
            cannotRaise = true
        }
        #else
        unsupported = true
        #endif
    }
}
