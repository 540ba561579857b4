import Foundation

/// A fault or planned operation injected into a ``PoolLab`` while clients write to its VMs: what
/// `PoolLabTests` runs once each and `lockstep-soak pool` runs at random.
public enum PoolFault: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `lockstep vm switchover` of one VM.
    case switchover
    /// `lockstep host drain` of a VM's primary's host, until every VM is protected on the others;
    /// then `lockstep host undrain`.
    case drain
    /// SIGKILL of the etcd member on a VM's primary's host; a switchover of that VM meanwhile (the
    /// pool keeps working on two members); the member started again.
    case etcdMember = "etcd-member"
    /// A VM's primary's host cut off (its host-network and LAN ports down): its VMs fail over, and
    /// every VM is protected on the two other hosts; then healed.
    case partition
    /// SIGKILL of a host that runs the primary of one VM and the backup of another (its nodes, its
    /// agent, its etcd member): one VM goes live on its backup, the other keeps its primary, both
    /// are protected again on the two hosts left; then the host is started again (empty).
    case killHost = "kill-host"

    public var description: String { rawValue }
}

extension PoolLab {
    /// Injects `fault` and waits until the pool has dealt with it: every VM protected again, the
    /// cut healed, the killed member or host started again. `choice` picks the VM (and with it the
    /// host) the fault is aimed at. Returns what happened, with the times measured (from the
    /// status table, polled every 0.1 s, and the nodes' logs).
    public func inject(_ fault: PoolFault, choice: Int = 0) throws -> String {
        let vm = vmNames[choice % vmNames.count]
        guard let primary = try roles(vm).primary else { throw FaultInjectionError.setup("VM \(vm) has no primary before \(fault)\n\(logs)") }
        switch fault {
        case .switchover:
            let switched = try lockstep(["vm", "switchover", vm, "--timeout", "120"]).trimmingCharacters(in: .whitespacesAndNewlines)
            try waitUntilAllProtected(seconds: 120)
            return "\(vm) \(switched); pause \(switchoverPause(vm, on: primary).map { "\($0) ms" } ?? "?") (the old primary's log)"
        case .drain:
            let drained = try lockstep(["host", "drain", primary, "--timeout", "300"])
            try waitUntilAllProtected(on: Set(hostNames).subtracting([primary]), seconds: 180)
            try lockstep(["host", "undrain", primary])
            return "\(drained.split(separator: "\n").last ?? ""); undrained"
        case .etcdMember:
            let member = hostNames.firstIndex(of: primary)!
            etcd.kill(member: member)
            let switched = try lockstep(["vm", "switchover", vm, "--timeout", "120"]).trimmingCharacters(in: .whitespacesAndNewlines)
            try waitUntilAllProtected(seconds: 120)
            try etcd.restart(member: member)
            try etcd.waitUntilServing(timeout: 60)
            return "etcd member on \(primary) killed; meanwhile \(vm) \(switched); member started again"
        case .partition:
            let others = Set(hostNames).subtracting([primary])
            let cut = Date()
            try partition(primary)
            let live = try waitUntilAllLive(on: others, seconds: 120)
            try waitUntilAllProtected(on: others, seconds: 180)
            let protected = Date().timeIntervalSince(cut)
            try heal(primary)
            try etcd.waitUntilServing(timeout: 60)
            return "\(primary) partitioned: every VM live on \(others.sorted()) after \(Self.seconds(live)), protected there after \(Self.seconds(protected)); healed"
        case .killHost:
            let victim = try hostRunningAPrimaryAndABackup()
            let before = try Dictionary(uniqueKeysWithValues: vmNames.map { ($0, try roles($0)) })
            let survivors = Set(hostNames).subtracting([victim])
            let killed = Date()
            killHost(victim)
            let live = try waitUntilAllLive(on: survivors, seconds: 120)
            try waitUntilAllProtected(on: survivors, seconds: 180)
            let protected = Date().timeIntervalSince(killed)
            for (name, roles) in before where roles.backup == victim {
                let now = try self.roles(name).primary
                guard now == roles.primary else {
                    throw FaultInjectionError.setup("VM \(name)'s primary moved from \(roles.primary ?? "?") to \(now ?? "?") when its backup's host \(victim) died\n\(logs)")
                }
            }
            try restartHost(victim)
            let lostPrimary = before.filter { $0.value.primary == victim }.keys.sorted(), lostBackup = before.filter { $0.value.backup == victim }.keys.sorted()
            return "host \(victim) killed (primary of \(lostPrimary), backup of \(lostBackup)): every VM live after \(Self.seconds(live)), every VM protected on \(survivors.sorted()) after \(Self.seconds(protected)); host started again"
        }
    }

    /// A host that runs the primary of one VM and the backup of another; a switchover makes one
    /// where the two VMs sharing a host have the same role there.
    func hostRunningAPrimaryAndABackup() throws -> String {
        func roleTable() throws -> [String: (primary: String?, backup: String?)] {
            try Dictionary(uniqueKeysWithValues: vmNames.map { ($0, try roles($0)) })
        }
        var table = try roleTable()
        for host in hostNames {
            let primaries = table.filter { $0.value.primary == host }.keys.sorted(), backups = table.filter { $0.value.backup == host }.keys.sorted()
            if !primaries.isEmpty && !backups.isEmpty { return host }
            if let vm = (primaries.count > 1 ? primaries : backups.count > 1 ? backups : []).first {
                try lockstep(["vm", "switchover", vm, "--timeout", "120"])
                try waitUntilAllProtected(seconds: 120)
                table = try roleTable()
                if table[vm]?.primary == host || table[vm]?.backup == host { return host }
            }
        }
        throw FaultInjectionError.setup("no host runs the primary of one VM and the backup of another: \(table)\n\(logs)")
    }

    static func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }
}
