import Foundation

/// Two `lockstep node` processes of one VM on this machine, an arbiter, and a relay on every
/// line so that lines can be silenced: the setup of every fault-injection test and of the soak.
///
/// Node i listens on its own two line ports; its peer addresses are relays that forward to the
/// other node's line ports. Silencing line k silences both relays of line k (the line between
/// the nodes, whichever is primary).
public final class Cluster: @unchecked Sendable {
    public enum ArbiterKind: Sendable {
        /// `lockstep arbiter` as a separate process (the default deployment).
        case server
        /// A lock file both nodes open.
        case file
        /// A three-member etcd cluster (``EtcdCluster``) on loopback.
        case etcd
    }

    public struct Options: Sendable {
        /// The `lockstep` executable.
        public var lockstep: String
        public var arbiter: ArbiterKind = .server
        public var heartbeatIntervalMilliseconds = 50
        public var heartbeatTimeoutMilliseconds = 400
        public var append = "console=ttyS0 quiet lockstep.service=kv"
        public var memoryMiB = 128
        public var statisticsInterval = 10.0
        /// Relays on the lines (so that they can be silenced). Benchmarks go without: a relay is
        /// two more hops and a thread wake-up each way.
        public var relays = true
        /// More arguments for node A and node B (for instance each node's `--netdev`).
        public var nodeArguments: [[String]] = [[], []]

        public init(lockstep: String) { self.lockstep = lockstep }
    }

    public let options: Options
    public let directory: URL
    public let nodes: [NodeProcess]
    public let arbiterProcess: NodeProcess?
    /// The etcd cluster, with ``ArbiterKind/etcd``.
    public let etcd: EtcdCluster?
    public let consolePorts: [Int]
    let relays: [[LineRelay]]
    let arbiterPort: Int
    /// Kills the processes on SIGINT or SIGTERM (``SignalTeardown``); cancelled by ``stop()``.
    private var signalRegistration: SignalTeardown.Registration?

    public init(options: Options, directory: URL) throws {
        // Sockets here are written with MSG_NOSIGNAL; this covers any other write to a peer
        // that a SIGKILL just closed (a test process must not die of SIGPIPE).
        signal(SIGPIPE, SIG_IGN)
        self.options = options
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent("key").path
        try Data("lockstep-test-key-\(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: keyFile))
        let linePorts = try (0..<2).map { _ in try (0..<2).map { _ in try TestPorts.reserve() } }
        relays = try linePorts.map { ports in try ports.map { try LineRelay(target: $0) } }
        consolePorts = try (0..<2).map { _ in try TestPorts.reserve() }
        arbiterPort = try TestPorts.reserve()
        var arbiterArguments: [String]
        etcd = options.arbiter == .etcd
            ? try EtcdCluster(count: 3, directory: directory.appendingPathComponent("etcd"), start: false) : nil
        switch options.arbiter {
        case .server:
            arbiterArguments = ["--arbiter", "127.0.0.1:\(arbiterPort)"]
            arbiterProcess = NodeProcess(name: "arbiter", executable: options.lockstep,
                                         arguments: ["arbiter", "--listen", "127.0.0.1:\(arbiterPort)",
                                                     "--state", directory.appendingPathComponent("arbiter.state").path,
                                                     "--key-file", keyFile, "--exit-with-parent"],
                                         directory: directory)
        case .file:
            arbiterArguments = ["--arbiter-file", directory.appendingPathComponent("arbiter.lock").path]
            arbiterProcess = nil
        case .etcd:
            arbiterArguments = ["--etcd", etcd!.clientURLs]
            arbiterProcess = nil
        }
        var nodes: [NodeProcess] = []
        for index in 0..<2 {
            let name = index == 0 ? "A" : "B"
            let other = 1 - index
            var arguments = ["node", "--vm", "kv", "--node-id", name, "--key-file", keyFile, "--exit-with-parent"]
            for port in linePorts[index] { arguments += ["--listen", "127.0.0.1:\(port)"] }
            for (line, relay) in relays[other].enumerated() {
                arguments += ["--peer", "127.0.0.1:\(options.relays ? relay.port : linePorts[other][line])"]
            }
            arguments += ["--console", "127.0.0.1:\(consolePorts[index])"]
            arguments += arbiterArguments
            arguments += ["--release-log", directory.appendingPathComponent("release.log").path,
                          "--heartbeat-interval", "\(options.heartbeatIntervalMilliseconds)",
                          "--heartbeat-timeout", "\(options.heartbeatTimeoutMilliseconds)",
                          "--append", options.append, "--memory", "\(options.memoryMiB)",
                          "--statistics-interval", "\(options.statisticsInterval)"]
            arguments += options.nodeArguments[index]
            nodes.append(NodeProcess(name: name, executable: options.lockstep, arguments: arguments, directory: directory))
        }
        self.nodes = nodes
        signalRegistration = SignalTeardown.shared.register { [weak self] in self?.retire() }
    }

    /// The console endpoints a client tries ("127.0.0.1:PORT", node A's first).
    public var endpoints: [String] { consolePorts.map { "127.0.0.1:\($0)" } }

    /// Starts the arbiter, node A (which boots the VM) and node B (which joins as backup).
    public func start() throws {
        try startArbiter()
        try nodes[0].start()
        try nodes[0].waitForLog("console on", seconds: 60)
        try joinBackup()
    }

    /// Starts node B and waits until it is the backup. A join can fail on a busy machine (the
    /// primary, slowed down while it copies, goes silent past the timeout and declares its
    /// backup lost): B then ends saying to start it again, which is what an operator or the
    /// pool's agent does; so does this, up to three times.
    func joinBackup() throws {
        for attempt in 1...3 {
            try nodes[1].start()
            do {
                try nodes[1].waitForLog("backup of VM", seconds: 60)
                return
            } catch {
                guard attempt < 3, nodes[1].waitForExit(seconds: 5) != nil, nodes[1].log.contains("restart the backup to join again") else { throw error }
            }
        }
    }

    /// Starts the arbiter (every etcd member not running), or starts it again after ``stopArbiter()``.
    public func startArbiter() throws {
        try etcd?.start()
        guard let arbiterProcess else { return }
        try arbiterProcess.start()
        try arbiterProcess.waitForLog("listening on", seconds: 30)
    }

    /// Whether the arbiter can be stopped (a lock file cannot).
    public var arbiterCanStop: Bool { arbiterProcess != nil || etcd != nil }

    /// Stops the arbiter: kills the arbiter process, or two of the three etcd members (no quorum).
    public func stopArbiter() {
        arbiterProcess?.kill()
        if let etcd {
            etcd.kill(member: 0)
            etcd.kill(member: 1)
        }
    }

    /// Restarts a node (after a kill or a stop); it joins the live primary as backup.
    public func rejoin(_ index: Int) throws {
        try nodes[index].start()
        try nodes[index].waitForLog("backup of VM", seconds: 60)
    }

    /// The node that is the live primary now (running, and its current incarnation went live and did not stop).
    public var primary: Int? { nodes.livePrimary }

    /// The node that is a synchronised backup now.
    public var backup: Int? {
        nodes.indices.first { index in
            let log = nodes[index].log
            return nodes[index].isRunning && log.contains("backup of VM") && !log.contains("console on")
        }
    }

    /// Waits until node `index` is the live primary.
    public func waitUntilLive(_ index: Int, seconds: Double) throws {
        try nodes[index].waitForLog("console on", seconds: seconds)
    }

    /// Silences (or restores) line `line` (0 or 1) in both directions.
    public func silence(line: Int, _ silenced: Bool) {
        for node in relays { node[line].silenced = silenced }
    }

    /// Every pair of overlapping output releases by two primaries, from the release log.
    public func releaseViolations() -> [String] {
        ReleaseLogCheck.violations(in: releases)
    }

    /// Writes decided under a valid lease that returned only after the next primary's first
    /// write (their node was stopped in between; see ``ReleaseLogCheck``).
    public func stalledWrites() -> [String] {
        ReleaseLogCheck.stalledWrites(in: releases)
    }

    private var releases: [ReleaseLogCheck.Release] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("release.log"), encoding: .utf8)) ?? ""
        return ReleaseLogCheck.parse(text)
    }

    /// Kills everything (nodes, arbiter) and closes the relays.
    public func stop() {
        for node in nodes { node.kill() }
        arbiterProcess?.kill()
        etcd?.shutdown()
        for pair in relays { for relay in pair { relay.close() } }
        signalRegistration?.cancel()
    }

    /// Kills every process for good (no restart) and closes the relays: the teardown on a signal.
    private func retire() {
        for node in nodes { node.retire() }
        arbiterProcess?.retire()
        for pair in relays { for relay in pair { relay.close() } }
    }

    /// All logs, for a failure report.
    public var logs: String { (nodes + (arbiterProcess.map { [$0] } ?? [])).logs(in: directory) }
}
