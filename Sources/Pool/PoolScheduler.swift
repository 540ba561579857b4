/// Decides where VMs run: a pure function of the hosts alive, the VMs declared and where they run
/// now, so that tests drive it directly and the leader only reads, calls and writes.
///
/// Rules, in order (docs/pool.md):
/// 1. A host that is not alive leaves every placement; a host that is alive stays (the VM's nodes
///    on it keep running), even when it is drained (it leaves only once a new backup has taken its
///    place: `lockstep host drain`).
/// 2. A VM with fewer than two hosts gets the alive, schedulable host with the most memory free
///    that can hold it and does not run it yet (ties: the name), until it has two.
/// 3. A VM whose every host is gone keeps its placement and waits: its state is on those hosts'
///    disks and memory, and a node started elsewhere would have nothing to copy from.
/// 4. VMs are considered in name order; memory used counts every placement kept.
public enum PoolScheduler {
    /// The placements to write: only those that change.
    public static func plan(hosts: [HostRecord], vms: [VMSpec], placements: [String: Placement]) -> [String: Placement] {
        let alive = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var kept: [String: [String]] = [:]
        var used: [String: Int] = [:]
        let ordered = vms.sorted { $0.name < $1.name }
        for vm in ordered {
            let hostsNow = placements[vm.name]?.hosts ?? []
            let staying = hostsNow.filter { alive[$0] != nil }
            kept[vm.name] = staying
            for host in staying { used[host, default: 0] += vm.memoryMiB }
        }
        var changes: [String: Placement] = [:]
        for vm in ordered {
            let current = placements[vm.name]
            var chosen = kept[vm.name] ?? []
            var waiting: String?
            if chosen.isEmpty, let current, !current.hosts.isEmpty {
                chosen = current.hosts
                waiting = "every host of the VM is gone (\(current.hosts.joined(separator: ", "))): it runs again when one of them comes back"
            } else {
                while chosen.count < 2 {
                    let candidates = alive.values.filter { host in
                        host.schedulable && !chosen.contains(host.name) && host.memoryMiB - used[host.name, default: 0] >= vm.memoryMiB
                    }
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
            let placement = Placement(hosts: chosen, waiting: waiting)
            if placement != current { changes[vm.name] = placement }
        }
        return changes
    }
}
