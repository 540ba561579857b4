import Foundation

/// A pool that a harness drives through the `lockstep` command, as an operator does
/// (``PoolCluster`` on loopback, ``PoolLab`` in network namespaces): `lockstep vm list` read
/// back into who is primary and backup, and waits until VMs are protected.
public protocol PoolControl: AnyObject {
    /// Runs `lockstep ARGUMENTS --etcd URLS` and returns what it printed; throws if it failed.
    @discardableResult
    func lockstep(_ arguments: [String]) throws -> String
    /// Every log, for a failure report.
    var logs: String { get }
}

extension PoolControl {
    /// The status line of `vm` from `lockstep vm list` (its row of the VM table).
    public func statusRow(_ vm: String) throws -> String {
        try lockstep(["vm", "list"]).split(separator: "\n").first { $0.hasPrefix(vm + " ") }.map(String.init) ?? ""
    }

    /// Waits until `vm` is protected with its primary and backup on two of `hosts` (any if nil);
    /// returns the row, the seconds it took, and the re-protection progress the rows showed on
    /// the way (`re-protecting 42%`, in order, each once).
    @discardableResult
    public func waitUntilProtected(_ vm: String, on hosts: Set<String>? = nil, seconds: Double) throws -> (row: String, seconds: Double, progress: [String]) {
        let started = Date()
        var row = ""
        var progress: [String] = []
        while Date().timeIntervalSince(started) < seconds {
            row = (try? statusRow(vm)) ?? ""
            let fields = row.split(separator: " ").map(String.init)
            if let percent = fields.firstIndex(of: "re-protecting").map({ $0 + 1 }), percent < fields.count, fields[percent].hasSuffix("%"),
               progress.last != "re-protecting " + fields[percent] {
                progress.append("re-protecting " + fields[percent])
            }
            let nodes = fields.filter { $0.contains(":primary") || $0.contains(":backup") }.map { String($0.split(separator: ":")[0]) }
            if fields.contains("protected") && nodes.count == 2 && (hosts.map { Set(nodes).isSubset(of: $0) } ?? true) {
                return (row, Date().timeIntervalSince(started), progress)
            }
            usleep(100_000)
        }
        throw FaultInjectionError.timeout("VM \(vm) was not protected\(hosts.map { " on \($0.sorted())" } ?? "") within \(seconds) s; last status: \(row)\n\(logs)")
    }

    /// The hosts of `vm`'s primary and backup now, from the status table.
    public func roles(_ vm: String) throws -> (primary: String?, backup: String?) {
        let fields = try statusRow(vm).split(separator: " ").map(String.init)
        func host(_ role: String) -> String? { fields.first { $0.hasSuffix(":" + role) }.map { String($0.split(separator: ":")[0]) } }
        return (host("primary") ?? host("primary-alone"), host("backup"))
    }

    /// The hosts running a node of `vm` now (any role), from the status table.
    public func hosts(of vm: String) throws -> [String] {
        let roles: Set<Substring> = ["starting", "primary", "primary-alone", "backup", "stopped"]
        return try statusRow(vm).split(separator: " ").compactMap { field in
            let parts = field.split(separator: ":")
            return parts.count == 2 && roles.contains(parts[1]) ? String(parts[0]) : nil
        }
    }
}

/// The logs of a pool on this machine, for a failure report.
enum PoolLogs {
    /// The error of an operator's command that failed (`detail`: its output or why it did not
    /// finish), with the end of every log of the pool, so that a CI failure says why.
    static func commandFailed(_ detail: String, agents: [NodeProcess], directory: URL, hosts: [String]) -> FaultInjectionError {
        .setup("\(detail)\nthe pool's logs, each cut to its end:\n\(text(agents: agents, directory: directory, hosts: hosts, lastLines: 40))")
    }

    /// Every agent's log, then each host's node logs (`<directory>/<host>/<vm>.log`).
    static func text(agents: [NodeProcess], directory: URL, hosts: [String], lastLines lines: Int = .max) -> String {
        var text = agents.logs(in: directory, lastLines: lines)
        for name in hosts {
            let hostDirectory = directory.appendingPathComponent(name)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: hostDirectory.path)) ?? [] where file.hasSuffix(".log") {
                text += "\n--- \(name)/\(file) ---\n" + LogTail.lastLines(of: hostDirectory.appendingPathComponent(file), lines)
            }
        }
        return text
    }
}
