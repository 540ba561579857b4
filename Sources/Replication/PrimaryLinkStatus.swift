extension PrimaryLink {
    /// What the machine thread needs to know.
    public struct Status: Sendable {
        public init(lastSequence: UInt64, acknowledged: UInt64, backupExecuted: UInt64, hasBackup: Bool, backupLost: Bool,
                    joinRequested: Bool, retainedEntries: Int, sentEntries: UInt64, sentBytes: UInt64) {
            self.lastSequence = lastSequence
            self.acknowledged = acknowledged
            self.backupExecuted = backupExecuted
            self.hasBackup = hasBackup
            self.backupLost = backupLost
            self.joinRequested = joinRequested
            self.retainedEntries = retainedEntries
            self.sentEntries = sentEntries
            self.sentBytes = sentBytes
        }

        /// Sequence number of the last entry appended (0: none yet).
        public var lastSequence: UInt64
        /// The backup has every entry up to this one.
        public var acknowledged: UInt64
        /// The backup has executed up to this instruction count.
        public var backupExecuted: UInt64
        /// A backup is synchronised and receiving the log.
        public var hasBackup: Bool
        /// Every line has been silent for the timeout: the backup is gone.
        public var backupLost: Bool
        /// A backup asked for the initial state on this line.
        public var joinRequested: Bool
        /// What the joining backup said about its disks, in `--disk` order (nil: it joined
        /// without disks).
        public var joinReports: [DiskReport]?
        /// Counts joins: a new number means a new join (a disk copy under way for an older one
        /// is abandoned).
        public var joinNumber: UInt64 = 0
        /// The joining backup asked for a live copy (`joinLive` or `joinWithDisks`), not one snapshot.
        public var joinLive = false
        /// Unacknowledged entries held for resending.
        public var retainedEntries: Int
        /// The backup echoed a heartbeat this primary sent less than half the heartbeat timeout
        /// ago (by the primary's own clock). A primary releases output under its backup's
        /// acknowledgements only while this holds. The backup declares the primary dead only
        /// after a whole timeout without hearing it, so a primary that was frozen (stopped,
        /// starved) long enough for that cannot release, on waking, outputs acknowledged before
        /// the freeze: messages the backup sent during the freeze echo old times.
        public var leaseValid: Bool = true
        /// When the lease runs out (seconds, on the clock the status was read with): the newest
        /// echo's time plus half the heartbeat timeout. ``PrimaryRole`` compares a fresh clock
        /// reading with it right before it writes each output, on the thread that writes.
        public var leaseExpiry: Double = .infinity
        /// Entries and bytes (whole frames, one line's worth) sent to backups so far.
        public var sentEntries: UInt64
        public var sentBytes: UInt64
        /// How long ago the oldest entry the backup has not acknowledged was sent (nil: none
        /// unacknowledged): the replication lag in seconds.
        public var oldestUnacknowledgedAge: Double?
        /// What each line carried so far, by line (only lines that carried something).
        public var lines: [LineTraffic] = []
    }

    /// What one line carried to backups: every frame written to it (log entries, resends, the
    /// initial state, the live copy, heartbeats, the handover), and the log entries among them.
    public struct LineTraffic: Codable, Equatable, Sendable {
        /// The line's number (1 or 2, as in the log lines).
        public var line: Int
        public var entries: UInt64 = 0
        public var bytes: UInt64 = 0

        public init(line: Int, entries: UInt64 = 0, bytes: UInt64 = 0) {
            self.line = line
            self.entries = entries
            self.bytes = bytes
        }
    }
}
