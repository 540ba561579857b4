import Foundation
import KVWorkload
import LockstepSupport

/// A replicated VM deployed in a ``NetworkLab`` as on real hosts: the arbiter in its namespace,
/// `lockstep node` A and B in the two host namespaces (lines over the lab's two line networks, the
/// arbiter over the management network, the guest's network a TAP on each host's `br0` bridge),
/// and a Redis client in the client namespace reaching the guest over the LAN at its own address.
/// The setup of the network failover tests, the soak's network faults and the main demo.
public final class LabCluster: @unchecked Sendable {
    public struct Options: Sendable {
        /// The `lockstep` executable.
        public var lockstep: String
        /// The `lockstep-kv` executable (the Redis client runs in the client namespace).
        public var lockstepKV: String
        public var memoryMiB = 256
        public var heartbeatIntervalMilliseconds = 50
        public var heartbeatTimeoutMilliseconds = 400
        /// The guest's service (`lockstep.service=`): redis or http.
        public var service = "redis"

        public init(lockstep: String, lockstepKV: String) {
            self.lockstep = lockstep
            self.lockstepKV = lockstepKV
        }
    }

    public let options: Options
    public let lab: NetworkLab
    public let directory: URL
    public let nodes: [NodeProcess]
    public let arbiterProcess: NodeProcess
    static let arbiterPort = 7000
    static let linePorts = [[7101, 7102], [7201, 7202]]
    static let redisPort = 6379

    /// Makes the lab and the processes (none started).
    public init(options: Options, directory: URL) throws {
        signal(SIGPIPE, SIG_IGN)
        self.options = options
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        lab = try NetworkLab()
        let configuration = lab.configuration
        let keyFile = directory.appendingPathComponent("key").path
        try Data("lockstep-lab-key-\(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: keyFile))
        let arbiterAddress = "\(configuration.arbiterManagementAddress):\(Self.arbiterPort)"
        arbiterProcess = try lab.process(in: .arbiter, name: "arbiter", executable: options.lockstep, arguments: [
            "arbiter", "--listen", arbiterAddress, "--state", directory.appendingPathComponent("arbiter.state").path,
            "--key-file", keyFile, "--exit-with-parent"], directory: directory)
        let append = "console=ttyS0 quiet lockstep.service=\(options.service) \(configuration.guestKernelArgument)"
        var nodes: [NodeProcess] = []
        for host in [LabHost.a, .b] {
            let index = host.rawValue, other: LabHost = host == .a ? .b : .a
            var arguments = ["node", "--vm", "lab", "--node-id", index == 0 ? "A" : "B", "--key-file", keyFile,
                             "--exit-with-parent", "--arbiter", arbiterAddress]
            for line in 1...2 {
                arguments += ["--listen", "\(configuration.lineAddress(line, host)):\(Self.linePorts[index][line - 1])"]
            }
            for line in 1...2 {
                arguments += ["--peer", "\(configuration.lineAddress(line, other)):\(Self.linePorts[other.rawValue][line - 1])"]
            }
            arguments += ["--console", "127.0.0.1:0", "--netdev", "bridge,br=\(configuration.hostBridge)",
                          "--release-log", directory.appendingPathComponent("release.log").path,
                          "--heartbeat-interval", "\(options.heartbeatIntervalMilliseconds)",
                          "--heartbeat-timeout", "\(options.heartbeatTimeoutMilliseconds)",
                          "--append", append, "--memory", "\(options.memoryMiB)", "--statistics-interval", "5"]
            nodes.append(try lab.process(in: host == .a ? .hostA : .hostB, name: index == 0 ? "A" : "B",
                                         executable: options.lockstep, arguments: arguments, directory: directory))
        }
        self.nodes = nodes
    }

    /// The guest's service address, as the client sees it.
    public var serviceEndpoint: String { "\(lab.configuration.guestLANAddress):\(Self.redisPort)" }

    /// Starts the arbiter, node A (which boots the VM), waits for Redis to answer over the LAN,
    /// then starts node B (which joins as backup).
    public func start(redisTimeout: Double = 180) throws {
        try startPrimary(redisTimeout: redisTimeout)
        try rejoin(1)
    }

    /// Starts the arbiter and node A (which boots the VM) and waits for Redis to answer over the
    /// LAN: the VM runs unprotected until ``rejoin(_:)`` starts node B.
    public func startPrimary(redisTimeout: Double = 180) throws {
        try arbiterProcess.start()
        try arbiterProcess.waitForLog("listening on", seconds: 30)
        try nodes[0].start()
        try nodes[0].waitForLog("console on", seconds: 60)
        try waitForService(seconds: redisTimeout)
    }

    /// Restarts node `index` (after a kill); it joins the live primary as backup.
    public func rejoin(_ index: Int) throws {
        try nodes[index].start()
        try nodes[index].waitForLog("backup of VM", seconds: 60)
    }

    /// The node that is the live primary now.
    public var primary: Int? { nodes.livePrimary }

    /// Waits until the guest's Redis answers PING from the client namespace.
    public func waitForService(seconds: Double) throws {
        guard let redisCLI = ShortCommand.find("redis-cli") else {
            throw FaultInjectionError.setup("redis-cli not found: install redis-tools (scripts/install-deps.sh does)")
        }
        let deadline = monotonicSeconds() + seconds
        var last = ""
        while monotonicSeconds() < deadline {
            let output = try lab.run(in: .client, redisCLI, ["-h", lab.configuration.guestLANAddress, "-p", "\(Self.redisPort)", "ping"],
                                     timeout: 10)
            if output.succeeded && output.standardOutput.contains("PONG") { return }
            last = "\(output)"
            if !nodes.contains(where: \.isRunning) { break }
            usleep(500_000)
        }
        throw FaultInjectionError.timeout("Redis at \(serviceEndpoint) did not answer from the client namespace within \(seconds) s (\(last)); logs:\n\(logs)")
    }

    /// Starts the Redis client in the client namespace: one connection, writing for `seconds`
    /// (or until ``RedisLoad/stop()``), then reading every acknowledged write back.
    public func startClient(seconds: Double, name: String = "client") throws -> RedisLoad {
        let json = directory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8)).json")
        let process = try lab.spawn(in: .client, name: name, executable: options.lockstepKV, arguments: [
            "redis-load", "--endpoint", serviceEndpoint, "--duration", "\(seconds)", "--json", json.path,
            "--request-timeout", "30", "--keys", "500"], directory: directory)
        return RedisLoad(process: process, json: json)
    }

    /// Every pair of overlapping output releases by two primaries, from the release log.
    public func releaseViolations() -> [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("release.log"), encoding: .utf8)) ?? ""
        return ReleaseLogCheck.violations(in: ReleaseLogCheck.parse(text))
    }

    /// Kills every process and removes the lab.
    public func stop() {
        for node in nodes { node.kill() }
        arbiterProcess.kill()
        lab.teardown()
    }

    /// All logs, for a failure report.
    public var logs: String { (nodes + [arbiterProcess]).logs(in: directory) }
}

/// A `lockstep-kv redis-load` process in the lab's client namespace.
public final class RedisLoad: @unchecked Sendable {
    public let process: NodeProcess
    let json: URL

    init(process: NodeProcess, json: URL) {
        self.process = process
        self.json = json
    }

    /// Acknowledged writes so far (from its progress lines).
    public var progressLog: String { process.log }

    /// Ends the write phase now (SIGTERM: the client finishes the write in flight, then verifies).
    public func stop() {
        if let pid = process.processIdentifier, process.isRunning { kill(pid, SIGTERM) }
    }

    /// Waits for the client to verify and exit, and returns its summary.
    public func summary(seconds: Double = 120) throws -> RedisWriterSummary {
        guard process.waitForExit(seconds: seconds) != nil else {
            process.kill()
            throw FaultInjectionError.timeout("the Redis client did not finish within \(seconds) s; its log:\n\(process.log)")
        }
        guard let data = FileManager.default.contents(atPath: json.path) else {
            throw FaultInjectionError.setup("the Redis client wrote no summary; its log:\n\(process.log)")
        }
        return try RedisWriterSummary(json: data)
    }
}
