/// When the primary stops executing for its backup: so that memory stays bounded on both sides
/// (the primary retains every unacknowledged entry; the backup queues every entry it has not
/// executed) and so that the backlog a backup must execute before going live, hence the
/// failover pause, stays bounded.
public enum Throttle {
    /// Whether the primary must pause before its next slice. `maximumLag` overrides the
    /// configuration's `maximumBackupLag` (a switchover's approach holds the backup closer).
    /// `joinedAt`: the count at which the backup's initial state was taken; until the backup has
    /// executed that far it is still loading the state, and the guest may run up to
    /// `maximumJoinLag` past it rather than freeze at `maximumBackupLag` (a slow join stalled a
    /// Redis guest's clients for 10-18 s in the pool's tests while its new backup wrote its disk).
    public static func mustPause(_ status: PrimaryLink.Status, instructionCount: UInt64, configuration: NodeConfiguration,
                                 maximumLag: UInt64? = nil, joinedAt: UInt64? = nil) -> Bool {
        // A lost backup: no slice until the arbiter has decided.
        guard status.hasBackup else { return status.backupLost }
        if status.lastSequence - status.acknowledged > configuration.maximumUnacknowledgedEntries { return true }
        if let joinedAt, status.backupExecuted < joinedAt {
            return instructionCount > joinedAt &+ configuration.maximumJoinLag
        }
        return instructionCount > status.backupExecuted &+ (maximumLag ?? configuration.maximumBackupLag)
    }
}
