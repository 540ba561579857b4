/// Decides where VMs run: a pure function of the hosts alive, the VMs declared, where they run now
/// and the planned operations asked for, so that tests drive it directly and the leader only
/// reads, calls and writes.
///
/// Rules, in order (docs/pool.md):
/// 1. A host that is not alive leaves every placement; a host that is alive stays (the VM's nodes
///    on it keep running), unless a planned operation moves the VM's backup away (rule 5). The
///    host of a VM's live primary is always in its placement, first: the primary may have gone
///    live after the placement was written, and the agents never stop a live primary.
/// 2. A VM with fewer than two hosts gets the alive, schedulable host with the most memory free
///    that can hold it and does not run it yet (ties: the name), until it has two.
/// 3. A VM whose every host is gone keeps its placement and waits: its state is on those hosts'
///    disks and memory, and a node started elsewhere would have nothing to copy from.
/// 4. VMs are considered in name order; memory used counts every placement kept.
/// 5. Planned operations never take a VM's last copy: a drained host's backup is replaced (rule
///    2, away from it) while the VM's primary runs elsewhere; a VM whose primary is on a drained
///    host is switched over first if it is protected (its old primary becomes the backup, which
///    the next round replaces); `vm move --backup-to HOST` replaces a protected VM's backup by
///    HOST if HOST is alive, schedulable and has room.
/// 6. A host that a VM's live primary declared lost (the replication's own heartbeat: every line
///    silent past its timeout) leaves that VM's placement at once, and is not chosen again for it
///    while the primary says so, unless no other host can take the VM: a dead host is replaced
///    within the heartbeat timeout rather than when its lease in etcd expires, and a host that
///    only lost its lines to the primary is replaced as well (its node could not be a backup).
/// 7. A host the health policy suspects (``HealthPolicy``) takes no new VMs, as a drained one,
///    but keeps what it runs: the policy switches its primaries over itself.
public enum PoolScheduler {
    /// What the leader does: the placements to write (only those that change) and the VMs whose
    /// primary must first be switched over (their primary's host is being drained).
    public struct Decision: Equatable, Sendable {
        public var placements: [String: Placement] = [:]
        public var switchovers: Set<String> = []
    }

    /// The placements to write: only those that change.
    public static func plan(hosts: [HostRecord], vms: [VMSpec], placements: [String: Placement]) -> [String: Placement] {
        decide(hosts: hosts, vms: vms, placements: placements).placements
    }

    /// `primaries`: where each VM's live primary is; `protected`: the VMs with a backup in step;
    /// `drained`: hosts being emptied; `moves`: a VM's backup asked for on a host; `suspect`:
    /// hosts the health policy suspects, which take no new VMs (rule 7).
    public static func decide(hosts: [HostRecord], vms: [VMSpec], placements: [String: Placement],
                              primaries: [String: String] = [:], protected: Set<String> = [],
                              drained: Set<String> = [], moves: [String: String] = [:],
                              lostPeers: [String: String] = [:], suspect: Set<String> = []) -> Decision {
        var decision = Decision()
        let alive = Dictionary(hosts.map { host -> (String, HostRecord) in
            var host = host
            if drained.contains(host.name) || suspect.contains(host.name) { host.schedulable = false }
            return (host.name, host)
        }, uniquingKeysWith: { first, _ in first })
        var wanted = placements
        // A VM's live primary is where it runs, whatever the placement says (it may have gone
        // live after the placement was written): its host is put back, first.
        for vm in vms {
            guard let primary = primaries[vm.name], alive[primary] != nil else { continue }
            let hostsNow = wanted[vm.name]?.hosts ?? []
            if !hostsNow.contains(primary) {
                wanted[vm.name] = Placement(hosts: [primary] + hostsNow.filter { $0 != primary && alive[$0] != nil }.prefix(1))
            }
        }
        var used: [String: Int] = [:]
        for vm in vms {
            for host in wanted[vm.name]?.hosts ?? [] where alive[host] != nil { used[host, default: 0] += vm.memoryMiB }
        }
        for vm in vms.sorted(by: { $0.name < $1.name }) {
            guard let current = wanted[vm.name], current.hosts.count == 2,
                  let primary = primaries[vm.name], current.hosts.contains(primary),
                  let backup = current.hosts.first(where: { $0 != primary }) else { continue }
            let isProtected = protected.contains(vm.name)
            if lostPeers[vm.name] == backup {
                // Rule 6: the primary runs alone; its backup's host leaves the placement now.
                wanted[vm.name] = Placement(hosts: [primary])
                used[backup, default: 0] -= vm.memoryMiB
            } else if drained.contains(primary) {
                if isProtected { decision.switchovers.insert(vm.name) }
            } else if drained.contains(backup) {
                // The backup there (in step or still joining) goes; the live primary keeps the VM.
                wanted[vm.name] = Placement(hosts: [primary])   // refilled below, away from the drained host
                used[backup, default: 0] -= vm.memoryMiB
            } else if isProtected, let target = moves[vm.name], target != backup, target != primary, let host = alive[target],
                      host.schedulable, host.memoryMiB - used[target, default: 0] >= vm.memoryMiB {
                wanted[vm.name] = Placement(hosts: [primary, target])
                used[backup, default: 0] -= vm.memoryMiB
                used[target, default: 0] += vm.memoryMiB
            }
        }
        let final = fill(alive: alive, vms: vms, placements: wanted, avoiding: lostPeers)
        for (name, placement) in final where placement != placements[name] { decision.placements[name] = placement }
        return decision
    }

    /// Every VM's placement after rules 1 to 4.
    /// `avoiding`: a host per VM chosen for it only when no other host can take it (rule 6).
    private static func fill(alive: [String: HostRecord], vms: [VMSpec], placements: [String: Placement],
                             avoiding: [String: String] = [:]) -> [String: Placement] {
        var kept: [String: [String]] = [:]
        var used: [String: Int] = [:]
        let ordered = vms.sorted { $0.name < $1.name }
        for vm in ordered {
            let staying = (placements[vm.name]?.hosts ?? []).filter { alive[$0] != nil }
            kept[vm.name] = staying
            for host in staying { used[host, default: 0] += vm.memoryMiB }
        }
        var result: [String: Placement] = [:]
        for vm in ordered {
            let current = placements[vm.name]
            var chosen = kept[vm.name] ?? []
            var waiting: String?
            if chosen.isEmpty, let current, !current.hosts.isEmpty {
                chosen = current.hosts
                waiting = "every host of the VM is gone (\(current.hosts.joined(separator: ", "))): it runs again when one of them comes back"
            } else {
                while chosen.count < 2 {
                    let fitting = alive.values.filter { host in
                        host.schedulable && !chosen.contains(host.name) && host.memoryMiB - used[host.name, default: 0] >= vm.memoryMiB
                    }
                    let preferred = fitting.filter { $0.name != avoiding[vm.name] }
                    let candidates = preferred.isEmpty ? fitting : preferred
                    guard let best = candidates.min(by: { a, b in
                        let freeA = a.memoryMiB - used[a.name, default: 0], freeB = b.memoryMiB - used[b.name, default: 0]
                        return freeA != freeB ? freeA > freeB : a.name < b.name
                    }) else {
                        waiting = chosen.isEmpty
                            ? "no host has \(vm.memoryMiB) MiB free"
                            : "no host besides \(chosen.joined(separator: ", ")) has \(vm.memoryMiB) MiB free: the VM runs unprotected"
                        break
                    }
                    chosen.append(best.name)
                    used[best.name, default: 0] += vm.memoryMiB
                }
            }
            result[vm.name] = Placement(hosts: chosen, waiting: waiting)
        }
        return result
    }
}
