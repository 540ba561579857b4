import Foundation
import Machine

/// The pool's state as text tables (`lockstep status`, `lockstep vm list`/`show`).
public enum PoolStatusTable {
    /// Whether a VM is protected: a primary and a backup in step.
    public static func protection(_ nodes: [NodeStatus]) -> String {
        let roles = nodes.map(\.role)
        if roles.contains(.primary) && roles.contains(.backup) { return "protected" }
        if roles.contains(.primaryAlone) || roles.contains(.primary) {
            return nodes.count > 1 ? "re-protecting" : "not protected"
        }
        return "not running"
    }

    /// ``protection(_:)``, with the live copy's progress while a new backup is copied
    /// ("re-protecting 42%": the furthest either node reports).
    public static func state(_ nodes: [NodeStatus]) -> String {
        let protection = protection(nodes)
        guard protection == "re-protecting", let copy = nodes.compactMap(\.copy).max() else { return protection }
        return "re-protecting \(Int((copy * 100).rounded(.down)))%"
    }

    public static func vms(_ state: PoolStore.VMState) -> String {
        var rows = [["VM", "MEMORY", "DISK", "STATE", "GENERATION", "NODES", "HEALTH", "WAITING"]]
        for spec in state.specs.sorted(by: { $0.name < $1.name }) {
            let nodes = (state.nodes[spec.name] ?? []).sorted { $0.host < $1.host }
            rows.append([spec.name, "\(spec.memoryMiB) MiB", spec.diskMiB.map { "\($0) MiB" } ?? "-", Self.state(nodes),
                         state.generations[spec.name].map { "\($0.generation)" } ?? "0",
                         nodes.map { "\($0.host):\($0.role.rawValue)" }.joined(separator: " "),
                         health(nodes),
                         state.placements[spec.name]?.waiting ?? (state.placements[spec.name] == nil ? "not placed yet" : "-")])
        }
        return table(rows)
    }

    /// The primary's probe results: state and p50/p99 in milliseconds ("-" when not probed).
    public static func health(_ nodes: [NodeStatus]) -> String {
        guard let health = nodes.compactMap(\.health).first else { return "-" }
        let format = { (value: Double?) in value.map { String(format: "%.1f", $0) } ?? "?" }
        return "\(health.state.rawValue) p50=\(format(health.p50))ms p99=\(format(health.p99))ms"
    }

    /// The hosts; `suspects`: the hosts the health policy suspects, with why (listed under the table).
    public static func hosts(_ hosts: [HostRecord], _ state: PoolStore.VMState, drained: Set<String> = [], suspects: [String: String] = [:]) -> String {
        var rows = [["HOST", "ADDRESS", "MEMORY", "USED", "VMS"]]
        for host in hosts.sorted(by: { $0.name < $1.name }) {
            let placed = state.specs.filter { state.placements[$0.name]?.hosts.contains(host.name) ?? false }
            let marks = (host.schedulable && !drained.contains(host.name) ? "" : " (drained)") + (suspects[host.name] == nil ? "" : " (suspect)")
            rows.append([host.name + marks, host.address, "\(host.memoryMiB) MiB",
                         "\(placed.map(\.memoryMiB).reduce(0, +)) MiB", placed.map(\.name).joined(separator: " ")])
        }
        return table(rows) + suspects.sorted { $0.key < $1.key }.map { "host \($0.key) is suspect: \($0.value)\n" }.joined()
    }

    /// What the health policy last did about each VM, one line each (empty if nothing).
    public static func healthActions(_ state: PoolStore.VMState) -> String {
        state.healthActions.sorted { $0.key < $1.key }.flatMap { vm, actions in
            [actions.switchover, actions.held].compactMap { $0 }.sorted { $0.time < $1.time }.map { "\(vm): \(entry($0))\n" }
        }.joined()
    }

    /// "at 22:10:05: text" (local time).
    static func entry(_ entry: HealthActions.Entry) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return "at \(formatter.string(from: Date(timeIntervalSince1970: entry.time))): \(entry.text)"
    }

    public static func vm(_ name: String, in state: PoolStore.VMState) -> String? {
        guard let spec = state.specs.first(where: { $0.name == name }) else { return nil }
        let nodes = (state.nodes[name] ?? []).sorted { $0.host < $1.host }
        var text = "VM \(name): \(Self.state(nodes)), generation \(state.generations[name].map { "\($0.generation) (owner \($0.owner))" } ?? "0")\n"
        text += "  memory \(spec.memoryMiB) MiB, disk \(spec.diskMiB.map { "\($0) MiB (\(spec.diskSync))" } ?? "none"), ports \(spec.basePort)-\(spec.basePort + 2)\n"
        let mac = spec.mac ?? "\(MACAddress.format(VirtioNetwork.defaultMAC)) (QEMU's default)"
        text += "  network: MAC \(mac), \(spec.netdev.map { "--netdev \($0)" } ?? "no --netdev")\n"
        text += "  append: \(spec.append)\n"
        if let placement = state.placements[name] {
            text += "  placed on: \(placement.hosts.joined(separator: ", "))\(placement.waiting.map { " (waiting: \($0))" } ?? "")\n"
        } else {
            text += "  placed on: nothing yet (no agent leads the pool, or it has not looked yet)\n"
        }
        if let probe = spec.probe {
            text += "  probe: \(probe.text), degraded above p99 \(probe.thresholdMilliseconds) ms\(spec.healthSwitchover == false ? "; no health switchover" : "")\n"
        }
        if let actions = state.healthActions[name] {
            for item in [actions.switchover, actions.held].compactMap({ $0 }).sorted(by: { $0.time < $1.time }) { text += "  health policy \(entry(item))\n" }
        }
        for node in nodes {
            text += "  node on \(node.host): \(node.role.rawValue)\(node.copy.map { " (copy \(Int(($0 * 100).rounded(.down)))%)" } ?? "") - \(node.detail)\n"
            if let health = node.health {
                let format = { (value: Double?) in value.map { String(format: "%.2f", $0) } ?? "?" }
                text += "    service \(health.state.rawValue): p50 \(format(health.p50)) ms, p99 \(format(health.p99)) ms, p99.9 \(format(health.p999)) ms; \(health.failures) of \(health.probes) probes failed in 30 s\n"
            }
        }
        return text
    }

    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
