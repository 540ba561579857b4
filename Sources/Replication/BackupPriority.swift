#if canImport(Glibc)
import Glibc
#endif

/// The backup's replay thread's scheduling priority, by how far behind the log it is (used on
/// that thread; ``update(backlog:)`` after every step).
///
/// While the backup keeps up, its replay runs at the lowest priority (nice 19), so that on a
/// host it shares with busy work the threads a client waits on win the cores (docs/benchmarks.md,
/// issue 14). But a backup that falls behind makes its primary throttle (at `maximumBackupLag`),
/// and then the guest stops altogether: at nice 19 beside busy threads of normal priority the
/// replay gets a few percent of a core, and the VM would stand still for minutes (seen in CI with
/// other tests on the cores). So when a step finds more than ``raiseAbove`` instructions of log to
/// execute, the thread goes back to normal priority, and down again once a step finds less than
/// ``lowerBelow``. Raising a priority needs the privilege to (root, CAP_SYS_NICE or RLIMIT_NICE);
/// without it the thread stays at nice 19, as before.
struct BackupPriority {
    /// A fifth of the primary's default throttle (100 M instructions).
    static let raiseAbove: UInt64 = 20_000_000
    static let lowerBelow: UInt64 = 2_000_000
    private var nice: Int32?

    mutating func update(backlog: UInt64) {
        if nice == nil {
            set(Node.backupNice)
        } else if backlog > Self.raiseAbove && nice != 0 {
            set(0)
        } else if backlog < Self.lowerBelow && nice == 0 {
            set(Node.backupNice)
        }
    }

    /// Sets the calling thread's nice value (remembered only if the system took it).
    private mutating func set(_ value: Int32) {
        #if os(Linux)
        // On Linux the nice value is a thread's own, and `who` 0 names the calling thread
        // (setpriority(2), "Bugs": per-thread under NPTL).
        if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, value) == 0 {
            nice = value
        } else if nice == nil {
            nice = Node.backupNice   // could not even lower: do not try again and again
        }
        #endif
    }
}
