import Foundation
import Pool

/// The agents' status page: the VMs with their placement and protection (and why not), the hosts,
/// and a sparkline of each VM's probe p99. Plain HTML with inline SVG, no scripts; it reloads
/// itself every 2 s.
public enum StatusPage {
    public static func render(_ view: PoolView) -> String {
        var html = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
            <title>Lockstep pool</title><style>
            body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse;margin-bottom:1.5em}
            td,th{border:1px solid #ccc;padding:4px 10px;text-align:left} th{background:#eee}
            .protected{color:#080;font-weight:bold} .re-protecting{color:#a60;font-weight:bold}
            .not-protected,.not-running{color:#c00;font-weight:bold}
            </style></head><body>
            <h1>Lockstep pool</h1>
            <p>Seen by the agent on <b>\(escape(view.host))</b>\(view.leading ? " (leading the pool)" : "") at \(time(view.updated)).</p>
            <h2>VMs</h2><table id="vms"><tr><th>VM</th><th>State</th><th>Nodes</th><th>Generation</th><th>Service</th><th>p99 (last 2 min)</th><th>Why</th><th>Health policy</th></tr>
            """
        for spec in view.state.specs.sorted(by: { $0.name < $1.name }) {
            let nodes = (view.state.nodes[spec.name] ?? []).sorted { $0.host < $1.host }
            let protection = PoolStatusTable.protection(nodes)
            let placement = view.state.placements[spec.name]
            let why = placement?.waiting ?? (placement == nil ? "not placed yet" : protection == "re-protecting"
                ? (nodes.first { $0.role != .primary && $0.role != .primaryAlone }?.detail ?? "a new backup is being copied") : "")
            html += "<tr class=\"vm\" data-vm=\"\(escape(spec.name))\"><td>\(escape(spec.name))</td>"
            html += "<td class=\"\(protection.replacingOccurrences(of: " ", with: "-"))\">\(PoolStatusTable.state(nodes))</td>"
            html += "<td>" + nodes.map { "\(escape($0.host)): \($0.role.rawValue)" }.joined(separator: "<br>") + "</td>"
            html += "<td>\(view.state.generations[spec.name]?.generation ?? 0)</td>"
            html += "<td>\(escape(PoolStatusTable.health(nodes)))</td>"
            html += "<td>\(sparkline(view.p99History[spec.name] ?? []))</td><td>\(escape(why))</td>"
            html += "<td class=\"health-policy\">\(escape(Self.healthPolicy(view.state.healthActions[spec.name])))</td></tr>\n"
        }
        html += "</table><h2>Hosts</h2><table id=\"hosts\"><tr><th>Host</th><th>Address</th><th>Memory</th><th>VMs</th><th>Health</th></tr>"
        for host in view.hosts.sorted(by: { $0.name < $1.name }) {
            let placed = view.state.specs.filter { view.state.placements[$0.name]?.hosts.contains(host.name) ?? false }.map(\.name)
            html += "<tr><td>\(escape(host.name))\(view.drained.contains(host.name) ? " (drained)" : "")</td><td>\(escape(host.address))</td>"
            html += "<td>\(host.memoryMiB) MiB</td><td>\(escape(placed.joined(separator: " ")))</td>"
            html += "<td class=\"suspect\">\(escape(view.suspects[host.name].map { "suspect: \($0)" } ?? ""))</td></tr>\n"
        }
        return html + "</table></body></html>\n"
    }

    /// The health policy's last switchover of a VM and its last hold, newest first, with their
    /// times (UTC) and reasons; empty when it never acted.
    static func healthPolicy(_ actions: HealthActions?) -> String {
        guard let actions else { return "" }
        return [actions.switchover, actions.held].compactMap { $0 }.sorted { $0.time > $1.time }
            .map { "\(time($0.time)): \($0.text)" }.joined(separator: "; ")
    }

    /// An inline SVG polyline of `values` (120 × 24 px), scaled to their maximum.
    static func sparkline(_ values: [Double]) -> String {
        guard values.count > 1, let top = values.max(), top > 0 else { return "-" }
        let points = values.enumerated().map { index, value in
            String(format: "%.1f,%.1f", Double(index) * 120 / Double(values.count - 1), 23 - value / top * 22)
        }.joined(separator: " ")
        return "<svg class=\"spark\" width=\"120\" height=\"24\"><polyline fill=\"none\" stroke=\"#36c\" stroke-width=\"1.5\" points=\"\(points)\"/></svg>"
            + String(format: " max %.1f ms", top)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func time(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
