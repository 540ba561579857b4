import Foundation
import KVWorkload
import LockstepSupport

/// A pool deployed in network namespaces as on real hosts: three hosts, each running a
/// `lockstep agent` and one member of a three-member etcd, a switch, and a client; the Redis
/// guest VMs are declared with `lockstep vm create` and placed by the pool. The setup of
/// `PoolLabTests` and of `lockstep-soak pool`. Needs root (see ``NetworkLab/isAvailable``).
///
/// The topology (`<p>` is the lab's prefix; every namespace is `<p>-<name>`):
///
/// ```
///  <p>-sw (switch): bridge net (the host network)   bridges lan1, lan2 (one LAN segment per VM)
///  <p>-ha, hb, hc:  net0 10.99.0.N/24 on net         brK = lanK (to the switch's lanK) + the VM's TAP,
///                   etcd member N, its agent             10.0.K.(20+N)/24 (the agent's probes)
///  <p>-cl (client): net0 10.99.0.100/24 on net (the operator's `lockstep` commands)
///                   lanK 10.0.K.100/24 on lanK (the Redis clients); VM K's guest is 10.0.K.10
/// ```
///
/// Each VM has a LAN segment of its own: every guest has the same MAC address (the machine's
/// default; `lockstep vm create` has no `--mac` yet), so two guests on one segment would take each
/// other's frames. Every host has every segment's bridge, so a VM runs on whichever host the
/// pool puts it (`--netdev bridge,br=brK`). A host's nodes use its host-network address for
/// their lines and console, its etcd member serves there too: cutting a host's switch ports
/// (``partition(_:)``) isolates its nodes, its agent and its etcd member, as in a real deployment.
///
/// ``stop()`` (also on SIGINT or SIGTERM, with ``SignalTeardown`` installed) kills every process,
/// deletes the namespaces and the hosts' disk images and etcd data; the logs stay in ``directory``.
public final class PoolLab: PoolControl, @unchecked Sendable {
    public struct Options: Sendable {
        /// The `lockstep` executable (agents, nodes, the operator's commands).
        public var lockstep: String
        /// The `lockstep-kv` executable (the Redis clients).
        public var lockstepKV: String
        /// Memory each host offers (MiB).
        public var hostMemoryMiB = 1024
        /// The agents' lease (seconds): how long a dead host stays registered.
        public var leaseSeconds = 3
        /// The nodes' heartbeat timeout: on this 2-core machine four emulators share the CPU, so
        /// longer than the network tests' 400 ms.
        public var heartbeatTimeoutMilliseconds = 1000
        /// Each VM's memory and mirrored disk (MiB).
        public var vmMemoryMiB = 256
        public var diskMiB = 64
        /// How many VMs (each with a LAN segment of its own).
        public var vmCount = 2
        /// The p99 probe latency above which a VM counts as degraded (`vm create --probe-threshold`).
        /// Higher than the pool's 100 ms default: three hosts, two guests and their clients share
        /// this machine's cores, and a loaded run saw p99 of 336 ms, a health switchover and,
        /// a second later, the lab's host kill of the new primary while the old one was still
        /// copying its state back (a double fault that lost the VM). The lab's faults are host
        /// faults; PoolHealthTests drive the health policy.
        public var probeThresholdMilliseconds = 1000

        public init(lockstep: String, lockstepKV: String) {
            self.lockstep = lockstep
            self.lockstepKV = lockstepKV
        }
    }

    /// The suffixes of the lab's namespaces (for ``LabName``, which recognises a dead lab's).
    public static let namespaceSuffixes = ["sw", "cl", "ha", "hb", "hc"]
    static let switchNamespace = "sw", clientNamespace = "cl"
    static let redisPort = 6379

    public let options: Options
    public let directory: URL
    /// The hosts' names, ha, hb and hc (their namespaces' suffixes too): not the h1 to h3 of the
    /// loopback pool (``PoolCluster``), whose older versions found their nodes by host name alone
    /// and would kill or freeze this lab's when run on the same machine.
    public let hostNames = ["ha", "hb", "hc"]
    /// The VMs' names, r1, r2, ...
    public let vmNames: [String]
    public let etcd: EtcdCluster
    public let agents: [NodeProcess]
    private let namespaces: LabNamespaces
    private let keyFile: String
    /// Kills the processes and removes the data on SIGINT or SIGTERM; cancelled by ``stop()``.
    private var signalRegistration: SignalTeardown.Registration?

    /// Makes the namespaces, the etcd members and the agents (none started: ``start()``).
    public init(options: Options, directory: URL) throws {
        signal(SIGPIPE, SIG_IGN)
        guard (1...9).contains(options.vmCount) else { throw FaultInjectionError.setup("a pool lab has 1 to 9 VMs, not \(options.vmCount)") }
        self.options = options
        self.directory = directory
        vmNames = (1...options.vmCount).map { "r\($0)" }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        keyFile = directory.appendingPathComponent("key").path
        try Data("lockstep-pool-lab-key-\(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: keyFile))
        namespaces = try LabNamespaces(prefix: NetworkLabConfiguration.newPrefix())
        do {
            try Self.build(namespaces, hosts: hostNames, vms: options.vmCount)
            etcd = try EtcdCluster(count: 3, directory: directory.appendingPathComponent("etcd"),
                                   hosts: hostNames.indices.map(Self.hostAddress), namespaces: hostNames.map(namespaces.name), start: false)
        } catch {
            namespaces.teardown()
            throw error
        }
        let urls = etcd.clientURLs
        var agents: [NodeProcess] = []
        for (index, name) in hostNames.enumerated() {
            agents.append(try namespaces.process(in: name, name: "agent-\(name)", executable: options.lockstep, arguments: [
                "agent", "--etcd", urls, "--host", name, "--address", Self.hostAddress(index),
                "--memory", "\(options.hostMemoryMiB)", "--data", directory.appendingPathComponent(name).path,
                "--key-file", keyFile, "--lease", "\(options.leaseSeconds)", "--exit-with-parent",
                "--node-argument=--heartbeat-timeout", "--node-argument=\(options.heartbeatTimeoutMilliseconds)",
                // One release log per VM (`{vm}`: the agent puts the VM's name there).
                "--node-argument=--release-log", "--node-argument=\(Self.releaseLogPath(directory, vm: "{vm}"))",
            ], directory: directory))
        }
        self.agents = agents
        let processes = agents + etcd.processes, hosts = hostNames, dataDirectory = directory, keyFile = keyFile
        signalRegistration = SignalTeardown.shared.register {
            Self.retire(processes, nodesOf: hosts, keyFile: keyFile)
            Self.removeData(dataDirectory, hosts: hosts)
        }
    }

    /// Host `index`'s address on the host network (10.99.0.(index + 1)).
    public static func hostAddress(_ index: Int) -> String { "10.99.0.\(index + 1)" }

    /// VM `vm`'s guest address on its LAN segment (r1: 10.0.1.10).
    public func guestAddress(_ vm: String) -> String { "10.0.\(segment(vm)).10" }

    /// The Redis endpoint of VM `vm`, as the client sees it.
    public func serviceEndpoint(_ vm: String) -> String { "\(guestAddress(vm)):\(Self.redisPort)" }

    private func segment(_ vm: String) -> Int { (vmNames.firstIndex(of: vm) ?? 0) + 1 }

    static func releaseLogPath(_ directory: URL, vm: String) -> String {
        directory.appendingPathComponent("release-\(vm).log").path
    }

    // MARK: Building

    private static func build(_ namespaces: LabNamespaces, hosts: [String], vms: Int) throws(NetworkLabError) {
        for suffix in [switchNamespace, clientNamespace] + hosts { try namespaces.add(suffix) }
        let segments = (1...vms).map { "lan\($0)" }
        for bridge in ["net"] + segments {
            try namespaces.ip(switchNamespace, ["link", "add", bridge, "type", "bridge"])
            try namespaces.ip(switchNamespace, ["link", "set", bridge, "up"])
        }
        /// A veth from `interface` in `namespace` to port `port` of the switch's `bridge`.
        func connect(_ namespace: String, _ interface: String, port: String, bridge: String, address: String?) throws(NetworkLabError) {
            try namespaces.ip(namespace, ["link", "add", interface, "type", "veth", "peer", "name", port, "netns", namespaces.name(switchNamespace)])
            try namespaces.ip(switchNamespace, ["link", "set", port, "master", bridge])
            try namespaces.ip(switchNamespace, ["link", "set", port, "up"])
            if let address { try namespaces.ip(namespace, ["addr", "add", address, "dev", interface]) }
            try namespaces.ip(namespace, ["link", "set", interface, "up"])
        }
        for (index, host) in hosts.enumerated() {
            try connect(host, "net0", port: "\(host)-net", bridge: "net", address: hostAddress(index) + "/24")
            for (segment, lan) in zip(1..., segments) {
                // brK joins the segment through lanK; the host's own address there is for its probes.
                try namespaces.ip(host, ["link", "add", "br\(segment)", "type", "bridge"])
                try namespaces.ip(host, ["link", "set", "br\(segment)", "up"])
                try connect(host, lan, port: "\(host)-\(lan)", bridge: lan, address: nil)
                try namespaces.ip(host, ["link", "set", lan, "master", "br\(segment)"])
                try namespaces.ip(host, ["addr", "add", "10.0.\(segment).\(21 + index)/24", "dev", "br\(segment)"])
            }
        }
        try connect(clientNamespace, "net0", port: "cl-net", bridge: "net", address: "10.99.0.100/24")
        for (segment, lan) in zip(1..., segments) {
            try connect(clientNamespace, lan, port: "cl-\(lan)", bridge: lan, address: "10.0.\(segment).100/24")
        }
    }

    // MARK: The pool

    /// Starts etcd and every agent, declares the VMs, and waits until each is protected and its
    /// Redis answers the client.
    public func start(seconds: Double = 300) throws {
        try etcd.start()
        for agent in agents { try agent.start() }
        for agent in agents { try agent.waitForLog("registered host", seconds: 30) }
        for vm in vmNames {
            let segment = segment(vm)
            try lockstep(["vm", "create", vm, "--memory", "\(options.vmMemoryMiB)", "--disk", "\(options.diskMiB)",
                          "--append", "console=ttyS0 quiet lockstep.service=redis lockstep.data=/dev/vda ip=\(guestAddress(vm))::10.0.\(segment).1:255.255.255.0::eth0:off",
                          "--netdev", "bridge,br=br\(segment)", "--base-port", "\(7100 + 10 * segment)",
                          "--probe", "redis://\(serviceEndpoint(vm))", "--probe-threshold", "\(options.probeThresholdMilliseconds)"])
        }
        let deadline = Date(timeIntervalSinceNow: seconds)
        for vm in vmNames {
            try waitUntilProtected(vm, seconds: max(1, deadline.timeIntervalSinceNow))
            try waitForService(vm, seconds: max(1, deadline.timeIntervalSinceNow))
        }
    }

    /// Runs `lockstep ARGUMENTS --etcd URLS` in the client namespace (on the host network, as an
    /// operator's machine); returns what it printed, throws if it failed.
    @discardableResult
    public func lockstep(_ arguments: [String]) throws -> String {
        let result = try namespaces.run(in: Self.clientNamespace, options.lockstep, arguments + ["--etcd", etcd.clientURLs], timeout: 330)
        guard result.succeeded else {
            throw PoolLogs.commandFailed("lockstep \(arguments.joined(separator: " ")) failed: \(result)", agents: agents, directory: directory, hosts: hostNames)
        }
        return result.standardOutput
    }

    /// Waits until VM `vm`'s Redis answers PING from the client namespace.
    public func waitForService(_ vm: String, seconds: Double) throws {
        guard let redisCLI = ShortCommand.find("redis-cli") else {
            throw FaultInjectionError.setup("redis-cli not found: install redis-tools (scripts/install-deps.sh does)")
        }
        let deadline = Date(timeIntervalSinceNow: seconds)
        var last = ""
        while Date() < deadline {
            // A guest that does not answer leaves redis-cli waiting for TCP's retries: a timeout is "not yet".
            if let answer = try? namespaces.run(in: Self.clientNamespace, redisCLI, ["-h", guestAddress(vm), "-p", "\(Self.redisPort)", "ping"], timeout: 10) {
                if answer.succeeded && answer.standardOutput.contains("PONG") { return }
                last = "\(answer)"
            }
            usleep(500_000)
        }
        throw FaultInjectionError.timeout("VM \(vm)'s Redis at \(serviceEndpoint(vm)) did not answer within \(seconds) s (\(last))\n\(logs)")
    }

    /// Starts a Redis client of VM `vm` in the client namespace: ONE connection, writing without
    /// pause until ``RedisLoad/stop()``, then reading every acknowledged write back.
    public func startClient(_ vm: String, name: String) throws -> RedisLoad {
        let json = directory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8)).json")
        let process = try namespaces.process(in: Self.clientNamespace, name: name, executable: options.lockstepKV, arguments: [
            "redis-load", "--endpoint", serviceEndpoint(vm), "--duration", "36000", "--json", json.path,
            "--ledger", json.path + ".ledger", "--request-timeout", "30", "--keys", "500"], directory: directory)
        try process.start()
        return RedisLoad(process: process, json: json)
    }

    /// Runs `body` while a client writes to every VM (ONE connection each, started `before`
    /// seconds ahead and stopped `after` seconds past it); returns what `body` said and each VM's
    /// client summary (connection kept, every acknowledged write read back or not).
    public func underLoad(_ name: String, before: Double = 2, after: Double = 2,
                          _ body: () throws -> String) throws -> (outcome: String, clients: [(vm: String, summary: RedisWriterSummary)]) {
        let clients = try vmNames.map { try startClient($0, name: "\(name)-\($0)") }
        Thread.sleep(forTimeInterval: before)
        let outcome: String
        do { outcome = try body() } catch {
            for client in clients { client.stop() }
            throw error
        }
        Thread.sleep(forTimeInterval: after)
        for client in clients { client.stop() }
        return (outcome, try zip(vmNames, clients).map { ($0, try $1.summary()) })
    }

    /// Waits until every VM is protected on hosts among `hosts` (any if nil); the seconds it took.
    @discardableResult
    public func waitUntilAllProtected(on hosts: Set<String>? = nil, seconds: Double) throws -> Double {
        let started = Date()
        for vm in vmNames { try waitUntilProtected(vm, on: hosts, seconds: max(1, seconds - Date().timeIntervalSince(started))) }
        return Date().timeIntervalSince(started)
    }

    /// Waits until every VM has a live primary on one of `hosts`; the seconds it took.
    @discardableResult
    public func waitUntilAllLive(on hosts: Set<String>, seconds: Double) throws -> Double {
        let started = Date()
        var rows: [String] = []
        while Date().timeIntervalSince(started) < seconds {
            let primaries = vmNames.map { try? roles($0).primary }
            if primaries.allSatisfy({ $0.flatMap { $0 }.map(hosts.contains) ?? false }) { return Date().timeIntervalSince(started) }
            rows = vmNames.map { (try? statusRow($0)) ?? "?" }
            usleep(100_000)
        }
        throw FaultInjectionError.timeout("not every VM was live on \(hosts.sorted()) within \(seconds) s: \(rows)\n\(logs)")
    }

    // MARK: Faults

    /// The `lockstep node` processes of host `name` now.
    public func nodeProcesses(of name: String) -> [Int32] {
        Self.nodeProcesses(host: name, keyFile: keyFile)
    }

    private static func nodeProcesses(host: String, keyFile: String) -> [Int32] {
        ProcessTable.find(containing: ["node", "--node-id", host, "--key-file", keyFile]).filter { $0 != getpid() }
    }

    private static func killNodes(hosts: [String], keyFile: String) {
        for host in hosts { for pid in nodeProcesses(host: host, keyFile: keyFile) { kill(pid, SIGKILL) } }
    }

    /// Kills the agents (and etcd members) in `processes` first, then the nodes: an agent alive
    /// after its node was killed would start it again, and the new node would outlive the lab.
    private static func retire(_ processes: [NodeProcess], nodesOf hosts: [String], keyFile: String) {
        for process in processes { process.retire() }
        killNodes(hosts: hosts, keyFile: keyFile)
    }

    /// The loss of host `name`: SIGKILL of its nodes, its agent and its etcd member.
    public func killHost(_ name: String) {
        let index = hostNames.firstIndex(of: name)!
        for pid in nodeProcesses(of: name) { kill(pid, SIGKILL) }
        agents[index].kill()
        etcd.kill(member: index)
    }

    /// Starts a killed host's etcd member and agent again (it registers as a new, empty host).
    public func restartHost(_ name: String) throws {
        let index = hostNames.firstIndex(of: name)!
        try etcd.restart(member: index)
        if !agents[index].isRunning {
            try agents[index].start()
            try agents[index].waitForLog("registered host", seconds: 60)
        }
    }

    /// Cuts host `name` off: its switch ports (the host network and every LAN segment) go down,
    /// so its nodes, agent and etcd member reach nobody and its guests nobody.
    public func partition(_ name: String) throws {
        for port in switchPorts(of: name) { try namespaces.ip(Self.switchNamespace, ["link", "set", port, "down"]) }
    }

    /// Sets host `name`'s switch ports up again.
    public func heal(_ name: String) throws {
        for port in switchPorts(of: name) { try namespaces.ip(Self.switchNamespace, ["link", "set", port, "up"]) }
    }

    private func switchPorts(of host: String) -> [String] {
        ["\(host)-net"] + vmNames.indices.map { "\(host)-lan\($0 + 1)" }
    }

    /// The last switchover pause that VM `vm`'s node on `host` logged ("handed over ... after N
    /// ms": from the guest's stop to the handover), in milliseconds.
    public func switchoverPause(_ vm: String, on host: String) -> Int? {
        let log = (try? String(contentsOf: directory.appendingPathComponent(host).appendingPathComponent("\(vm).log"), encoding: .utf8)) ?? ""
        guard let line = log.split(separator: "\n").last(where: { $0.contains("switchover: handed over at instruction") }),
              let after = line.range(of: " after ") else { return nil }
        return Int(line[after.upperBound...].prefix { $0.isNumber })
    }

    // MARK: Checks

    /// Moments when two of VM `vm`'s nodes released output as primaries (see ``ReleaseLogCheck``).
    public func releaseViolations(_ vm: String) -> [String] { ReleaseLogCheck.violations(in: releases(vm)) }

    /// Writes of VM `vm` decided under a valid lease that returned after the next primary's first.
    public func stalledWrites(_ vm: String) -> [String] { ReleaseLogCheck.stalledWrites(in: releases(vm)) }

    private func releases(_ vm: String) -> [ReleaseLogCheck.Release] {
        ReleaseLogCheck.parse((try? String(contentsOfFile: Self.releaseLogPath(directory, vm: vm), encoding: .utf8)) ?? "")
    }

    // MARK: Cleaning up

    /// Kills every process (nodes, agents, etcd, clients), deletes the namespaces, the disk images
    /// and etcd's data; the logs stay in ``directory``.
    public func stop() {
        Self.retire(agents, nodesOf: hostNames, keyFile: keyFile)
        etcd.shutdown()
        namespaces.teardown()
        Self.removeData(directory, hosts: hostNames)
        signalRegistration?.cancel()
    }

    /// Removes the hosts' disk images and etcd's data directory under `directory`.
    private static func removeData(_ directory: URL, hosts: [String]) {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("etcd"))
        for host in hosts {
            let hostDirectory = directory.appendingPathComponent(host)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: hostDirectory.path)) ?? [] where !file.hasSuffix(".log") {
                try? FileManager.default.removeItem(at: hostDirectory.appendingPathComponent(file))
            }
        }
    }

    deinit { stop() }

    /// The namespaces the lab made and has not deleted.
    public var namespaceNames: [String] { namespaces.names }

    /// Every agent's log and each host's node logs.
    public var logs: String { PoolLogs.text(agents: agents, directory: directory, hosts: hostNames) }
}
