import Foundation

/// A fault injected into a ``LabCluster`` while a client holds its connection to the guest: what
/// the network failover tests run once each and `lockstep-soak run --network` runs in rounds.
public enum NetworkFault: String, CaseIterable, Sendable, CustomStringConvertible {
    /// SIGKILL of the primary's node; the backup goes live and announces the guest's MAC.
    case killPrimary = "kill-primary"
    /// SIGKILL of the backup's node; the primary wins the arbiter and goes on alone.
    case killBackup = "kill-backup"
    /// Both lines cut: both nodes claim, one wins, the other stops with its TAP down; then healed.
    case partition
    /// The primary's LAN port down for two seconds, then up again: the guest is unreachable
    /// meanwhile, and reachable again after it, on the same connection.
    case cutPrimaryLAN = "cut-primary-lan"
    /// SIGKILL of the primary; the old primary's host rejoins as the new backup (re-protection);
    /// then SIGKILL of the new primary.
    case killPrimaryAfterReprotection = "kill-primary-after-reprotection"

    public var description: String { rawValue }
}

extension LabCluster {
    /// Injects `fault` and waits until the cluster has dealt with it (a node live, or the cut
    /// restored). A killed node is left down, except where the fault restarts it; call
    /// ``rejoin(_:)`` to protect the VM again.
    public func inject(_ fault: NetworkFault) throws {
        guard let primary else { throw FaultInjectionError.setup("no primary before \(fault)\n\(logs)") }
        let backup = 1 - primary
        let backupLog = nodes[backup].log.count, primaryLog = nodes[primary].log.count
        switch fault {
        case .killPrimary:
            nodes[primary].kill()
            try nodes[backup].waitForLog("live as primary", after: backupLog, seconds: 30)
        case .killBackup:
            nodes[backup].kill()
            try nodes[primary].waitForLog("won the arbiter", after: primaryLog, seconds: 30)
        case .partition:
            try lab.partition()
            try Self.waitUntil(seconds: 30, "one node stopped after losing the arbiter") {
                nodes[primary].log.dropFirst(primaryLog).contains("lost the arbiter")
                    || nodes[backup].log.dropFirst(backupLog).contains("lost the arbiter")
            }
            try lab.heal()
        case .cutPrimaryLAN:
            let host: LabHost = primary == 0 ? .a : .b
            try lab.cutLAN(host)
            Thread.sleep(forTimeInterval: 2)
            try lab.restoreLAN(host)
        case .killPrimaryAfterReprotection:
            nodes[primary].kill()
            try nodes[backup].waitForLog("live as primary", after: backupLog, seconds: 30)
            try rejoin(primary)
            Thread.sleep(forTimeInterval: 2)
            let again = nodes[primary].log.count
            nodes[backup].kill()
            try nodes[primary].waitForLog("live as primary", after: again, seconds: 30)
        }
    }

    /// Restarts every node that is not running (it joins the live primary as backup).
    public func reprotect() throws {
        for index in nodes.indices where !nodes[index].isRunning { try rejoin(index) }
    }

    static func waitUntil(seconds: Double, _ what: String, _ condition: () -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return }
            usleep(50_000)
        }
        throw FaultInjectionError.timeout("\(what): not within \(seconds) s")
    }
}
