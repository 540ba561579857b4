import Foundation
import KVWorkload
import LockstepSupport

/// What the pool costs and how fast it repairs itself (issue 16, item 8; docs/benchmarks.md,
/// "The pool"), on a ``PoolCluster`` (three agents on loopback addresses, a three-member etcd):
///
/// - etcd traffic: requests and bytes the etcd members handle per second, with the agents alone
///   and then with the VMs running, so that the cost of one VM can be told from the hosts' own;
/// - planned switchovers: the longest stall of a client writing without pause, and the old
///   primary's own count of its pause (guest stopped to handed over);
/// - host loss: the primary's host of a VM killed (its nodes and agent SIGKILLed); the time to
///   every VM live (the longest client stall across the kill: the last acknowledgement before it
///   to the first one after) and to every VM protected again (from the kill to `lockstep vm list`
///   showing each VM with a primary and a backup in step on the survivors).
public struct PoolBenchmark {
    public var lockstep: String
    public var vms = 2
    public var memoryMiB = 256
    /// A mirrored disk per VM (MiB; nil: none).
    public var diskMiB: Int? = 1024
    public var hostLosses = 3
    public var switchovers = 3
    /// Seconds over which etcd traffic is counted.
    public var trafficSeconds = 20.0
    /// More arguments for every node (`--node-argument`).
    public var nodeArguments: [String] = []
    public var report: (String) -> Void = { print($0) }

    public init(lockstep: String) { self.lockstep = lockstep }

    struct Figures {
        var live: [Double] = []
        var protected: [Double] = []
        var switchoverStalls: [Double] = []
        var switchoverPauses: [Double] = []
    }

    public func run(directory: URL) throws {
        var options = PoolCluster.Options(lockstep: lockstep)
        options.hostMemoryMiB = max(1024, vms * memoryMiB * 2)
        options.nodeArguments = nodeArguments
        let pool = try PoolCluster(options: options, directory: directory)
        defer { pool.stop() }
        try pool.start()
        report("pool: 3 hosts, 3 etcd members; \(vms) VMs of \(memoryMiB) MiB\(diskMiB.map { " with a \($0) MiB disk" } ?? "")")

        let idle = try etcdTraffic(pool, seconds: trafficSeconds)
        report(String(format: "etcd, agents alone: %.1f requests/s, %.1f KiB/s", idle.requests, idle.bytes / 1024))

        var writers: [String: BackgroundWriter] = [:]
        defer { for writer in writers.values { writer.stop() } }
        for index in 0..<vms {
            let name = "vm\(index + 1)"
            let base = try Self.basePort()
            var arguments = ["vm", "create", name, "--memory", "\(memoryMiB)", "--base-port", "\(base)"]
            if let diskMiB { arguments += ["--disk", "\(diskMiB)", "--append", "console=ttyS0 quiet lockstep.service=kv lockstep.data=/dev/vda"] }
            try pool.lockstep(arguments)
            let protected = try pool.waitUntilProtected(name, seconds: 300)
            report(String(format: "%@ protected %.1f s after vm create", name, protected.seconds))
            let writer = try BackgroundWriter(endpoints: pool.consoleEndpoints(basePort: base))
            writer.start()
            try writer.waitForProgress(20, seconds: 60)
            writers[name] = writer
        }
        let names = writers.keys.sorted()

        let busy = try etcdTraffic(pool, seconds: trafficSeconds)
        report(String(format: "etcd, with %d VMs under writes: %.1f requests/s, %.1f KiB/s; per VM: %.2f requests/s, %.2f KiB/s",
                      vms, busy.requests, busy.bytes / 1024, (busy.requests - idle.requests) / Double(vms),
                      (busy.bytes - idle.bytes) / 1024 / Double(vms)))

        var figures = Figures()
        for round in 0..<switchovers {
            let name = names[round % names.count]
            let writer = writers[name]!
            let (from, _) = try pool.roles(name)
            let before = try pool.nodeLog(name, host: from ?? "").count
            writer.resetGap()
            try pool.lockstep(["vm", "switchover", name])
            try writer.waitForProgress(10, seconds: 60)
            let stall = writer.longestGapSeconds
            let log = String(try pool.nodeLog(name, host: from ?? "").dropFirst(before))
            let pause = Self.handoverMilliseconds(log).map { $0 / 1000 }
            figures.switchoverStalls.append(stall)
            if let pause { figures.switchoverPauses.append(pause) }
            report(String(format: "switchover %d (%@ from %@): client stall %.0f ms; guest stopped to handed over %@", round + 1, name,
                          from ?? "?", stall * 1000, pause.map { String(format: "%.0f ms", $0 * 1000) } ?? "?"))
            try pool.waitUntilProtected(name, seconds: 120)
        }

        for round in 0..<hostLosses {
            // The host of the first VM's primary: with the others' backups or primaries on it too.
            let (primary, _) = try pool.roles(names[round % names.count])
            let victim = try primary.orThrow("no primary for \(names[round % names.count])")
            let hit = try names.filter { try pool.hosts(of: $0).contains(victim) }
            for writer in writers.values { writer.resetGap() }
            let killed = Date()
            pool.killHost(victim)
            for name in names { try writers[name]!.waitForProgress(10, seconds: 60) }
            let live = names.map { writers[$0]!.longestGapSeconds }.max() ?? 0
            var repaired = 0.0
            for name in names {
                try pool.waitUntilProtected(name, on: Set(pool.hostNames).subtracting([victim]), seconds: 300)
                repaired = Date().timeIntervalSince(killed)
            }
            figures.live.append(live)
            figures.protected.append(repaired)
            report(String(format: "host loss %d (%@: %@): every VM live after %.2f s (longest client stall), every VM protected after %.1f s",
                          round + 1, victim, hit.joined(separator: ", "), live, repaired))
            try pool.restartHost(victim)
            usleep(2_000_000)
        }

        for (name, writer) in writers.sorted(by: { $0.key < $1.key }) {
            writer.stop()
            let verification = try writer.verify()
            report("\(name): \(verification.acknowledgedWrites) writes acknowledged, \(verification.lost.count) lost")
            guard verification.lost.isEmpty else { throw FaultInjectionError.setup("\(name) lost acknowledged writes: \(verification.lost)") }
        }
        func summary(_ values: [Double], _ unit: Double, _ format: String) -> String {
            guard !values.isEmpty else { return "-" }
            let sorted = values.sorted()
            return String(format: "median \(format), max \(format) (%d)", sorted[sorted.count / 2] * unit, sorted.last! * unit, sorted.count)
        }
        report("summary: host loss to every VM live: \(summary(figures.live, 1, "%.2f s")); to every VM protected: \(summary(figures.protected, 1, "%.1f s"))")
        report("summary: switchover client stall: \(summary(figures.switchoverStalls, 1000, "%.0f ms")); guest stopped to handed over: \(summary(figures.switchoverPauses, 1000, "%.0f ms"))")
    }

    /// Three consecutive free loopback ports (a VM's lines and console).
    static func basePort() throws -> Int {
        while true {
            let ports = try (0..<3).map { _ in try TestPorts.reserve() }
            if ports[1] == ports[0] + 1 && ports[2] == ports[0] + 2 { return ports[0] }
        }
    }

    /// The milliseconds of the old primary's "switchover: handed over at instruction N after M ms".
    static func handoverMilliseconds(_ log: String) -> Double? {
        guard let range = log.range(of: "switchover: handed over at instruction ") else { return nil }
        let rest = log[range.upperBound...]
        guard let after = rest.range(of: " after ") else { return nil }
        return Double(rest[after.upperBound...].prefix { $0.isNumber })
    }

    /// Requests (gRPC messages received, which the JSON gateway's requests become) and bytes
    /// (received and sent) per second over `seconds`, summed over the etcd members.
    func etcdTraffic(_ pool: PoolCluster, seconds: Double) throws -> (requests: Double, bytes: Double) {
        func sample() throws -> (Double, Double) {
            var requests = 0.0, bytes = 0.0
            for member in pool.etcd.members {
                let answer = try HTTPExchange.request("GET", to: Endpoint(host: member.host, port: UInt16(member.clientPort)), path: "/metrics", timeout: 5)
                let text = String(decoding: answer.body, as: UTF8.self)
                requests += Self.sum(text, metric: "grpc_server_msg_received_total")
                bytes += Self.sum(text, metric: "etcd_network_client_grpc_received_bytes_total")
                bytes += Self.sum(text, metric: "etcd_network_client_grpc_sent_bytes_total")
            }
            return (requests, bytes)
        }
        let first = try sample()
        let started = Date()
        usleep(UInt32(seconds * 1_000_000))
        let last = try sample()
        let elapsed = Date().timeIntervalSince(started)
        return ((last.0 - first.0) / elapsed, (last.1 - first.1) / elapsed)
    }

    /// The sum of every sample of `metric` in Prometheus exposition text.
    static func sum(_ text: String, metric: String) -> Double {
        text.split(separator: "\n").reduce(0) { total, line in
            guard line.hasPrefix(metric), line.dropFirst(metric.count).first.map({ $0 == " " || $0 == "{" }) ?? false,
                  let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { return total }
            return total + value
        }
    }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw FaultInjectionError.setup(message) }
        return self
    }
}
