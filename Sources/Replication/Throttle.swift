/// When the primary stops executing for its backup: so that memory stays bounded on both sides
/// (the primary retains every unacknowledged entry; the backup queues every entry it has not
/// executed) and so that the backlog a backup must execute before going live, hence the
/// failover pause, stays bounded.
public enum Throttle {
    /// Whether the primary must pause before its next slice. `maximumLag` overrides the
    /// configuration's `maximumBackupLag` (a switchover's approach holds the backup closer).
    public static func mustPause(_ status: PrimaryLink.Status, instructionCount: UInt64, configuration: NodeConfiguration,
                                 maximumLag: UInt64? = nil) -> Bool {
        // A lost backup: no slice until the arbiter has decided.
        guard status.hasBackup else { return status.backupLost }
        return status.lastSequence - status.acknowledged > configuration.maximumUnacknowledgedEntries
            || instructionCount > status.backupExecuted &+ (maximumLag ?? configuration.maximumBackupLag)
    }
}
