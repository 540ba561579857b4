import Foundation

/// The faults of mirrored disks the soak injects (`lockstep-soak disk`), beyond the network
/// faults: a backup killed while its disk is being copied, a primary killed in the final pause of
/// a live copy, both nodes killed at once.
public enum DiskFault: String, CaseIterable, Sendable {
    /// The backup is killed and started again with `--resync full`, then killed again while the
    /// copy runs; it comes back once more (auto) and must be resynced correctly.
    case killBackupDuringResync = "kill-backup-during-resync"
    /// The backup is killed and comes back; the primary is killed the moment it starts the final
    /// pause of the live copy. Whichever state the backup had reached, the VM must come back with
    /// every acknowledged write (from the backup, or from the primary's disk).
    case killPrimaryInFinalPause = "kill-primary-in-final-pause"
    /// Both nodes killed at once and started again from their disks.
    case restartBoth = "restart-both"
    /// The primary killed (the backup goes live).
    case killPrimary = "kill-primary"
}

extension LabCluster {
    /// Injects `fault` and waits until the VM runs again (protected again only after
    /// ``reprotect()``, except where the fault restarts nodes itself).
    public func inject(_ fault: DiskFault, random: Double = 0.5) throws {
        guard let primary else { throw FaultInjectionError.setup("no primary before \(fault)\n\(logs)") }
        let backup = 1 - primary
        switch fault {
        case .killBackupDuringResync:
            nodes[backup].kill()
            Thread.sleep(forTimeInterval: 0.5)
            nodes[backup].extraArguments = ["--resync", "full"]
            try nodes[backup].start()
            try nodes[backup].waitForLog("resync from the primary", seconds: options.joinSeconds)
            Thread.sleep(forTimeInterval: random)
            nodes[backup].kill()
            try rejoin(backup)
        case .killPrimaryInFinalPause:
            nodes[backup].kill()
            Thread.sleep(forTimeInterval: 0.5)
            let offset = nodes[primary].log.count
            nodes[backup].extraArguments = []
            try nodes[backup].start()
            try nodes[primary].waitForLog("live copy: final pause", after: offset, seconds: options.joinSeconds)
            nodes[primary].kill()
            let backupLog = nodes[backup].log
            let deadline = Date(timeIntervalSinceNow: 5)
            while Date() < deadline && !nodes[backup].log.contains("live as primary") { usleep(50_000) }
            if !nodes[backup].log.contains("live as primary") {
                // The backup had not received the whole state: the primary's disk holds the VM;
                // the primary comes back and boots it from there (the backup joins it again).
                _ = backupLog
                nodes[primary].extraArguments = []
                try nodes[primary].start()
                try waitForService(seconds: options.serviceSeconds)
            }
        case .restartBoth:
            try restartBoth()
        case .killPrimary:
            let backupLog = nodes[backup].log.count
            nodes[primary].kill()
            try nodes[backup].waitForLog("live as primary", after: backupLog, seconds: 30)
        }
    }
}
