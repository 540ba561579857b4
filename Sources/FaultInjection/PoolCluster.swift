import Foundation
import KVWorkload
import LockstepSupport

/// A pool on this machine: a three-member etcd cluster and `hosts` agents (`lockstep agent`),
/// each host a loopback address of its own (127.0.1.N), so that the nodes of one VM on two hosts
/// use the same ports as on real hosts. Killing a host SIGKILLs its nodes and its agent, as a
/// host's loss does. The setup of the pool tests and of `lockstep-soak pool`.
public final class PoolCluster: PoolControl, @unchecked Sendable {
    public struct Options: Sendable {
        public var lockstep: String
        public var hosts = 3
        public var hostMemoryMiB = 1024
        /// The agents' lease (seconds): how long a dead host stays registered.
        public var leaseSeconds = 3
        public var heartbeatTimeoutMilliseconds = 400
        /// More arguments for every node the agents start (`--node-argument`).
        public var nodeArguments: [String] = []

        public init(lockstep: String) { self.lockstep = lockstep }
    }

    public let options: Options
    public let directory: URL
    public let etcd: EtcdCluster
    public let agents: [NodeProcess]
    public let hostNames: [String]
    /// The pool's key file (every node's `--key-file`).
    public let keyFile: String
    /// The port of every agent's metrics and status page (on its host's address): one of this
    /// pool's own, so that two pools in one test process never answer for each other (a fixed
    /// 9870 let one pool's test scrape the other's agents).
    public let httpPort: Int

    public init(options: Options, directory: URL) throws {
        signal(SIGPIPE, SIG_IGN)
        self.options = options
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent("key").path
        self.keyFile = keyFile
        try Data("lockstep-pool-key-\(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: keyFile))
        etcd = try EtcdCluster(count: 3, directory: directory.appendingPathComponent("etcd"), start: false)
        hostNames = (1...options.hosts).map { "h\($0)" }
        let urls = etcd.clientURLs
        let httpPort = try TestPorts.reserve()
        self.httpPort = httpPort
        agents = hostNames.enumerated().map { index, name in
            NodeProcess(name: "agent-\(name)", executable: options.lockstep, arguments: [
                "agent", "--etcd", urls, "--host", name, "--address", Self.address(index),
                "--memory", "\(options.hostMemoryMiB)", "--data", directory.appendingPathComponent(name).path,
                "--key-file", keyFile, "--lease", "\(options.leaseSeconds)", "--exit-with-parent",
                "--http", "\(Self.address(index)):\(httpPort)",
                "--node-argument=--heartbeat-timeout", "--node-argument=\(options.heartbeatTimeoutMilliseconds)",
            ] + options.nodeArguments.map { "--node-argument=\($0)" }, directory: directory)
        }
    }

    /// Three consecutive free loopback ports, for a VM's `--base-port` (its lines and console).
    public static func freeBasePort() throws -> Int {
        while true {
            let ports = try (0..<3).map { _ in try TestPorts.reserve() }
            if ports[1] == ports[0] + 1 && ports[2] == ports[0] + 2 { return ports[0] }
        }
    }

    /// Host `index`'s address (127.0.1.(index + 1)).
    public static func address(_ index: Int) -> String { "127.0.1.\(index + 1)" }

    /// Fetches `path` from host `name`'s agent (`/metrics`, `/`).
    public func agentPage(_ name: String, _ path: String) throws -> String {
        let index = hostNames.firstIndex(of: name)!
        do {
            let answer = try HTTPExchange.request("GET", to: Endpoint(host: Self.address(index), port: UInt16(httpPort)), path: path, timeout: 5)
            guard answer.status == 200 else { throw FaultInjectionError.setup("GET \(path) on \(name)'s agent: status \(answer.status)") }
            return String(decoding: answer.body, as: UTF8.self)
        } catch let error as HTTPExchange.Failure {
            throw FaultInjectionError.setup("\(error)")
        }
    }

    /// The etcd URLs, for `lockstep vm` and `lockstep status`.
    public var etcdURLs: String { etcd.clientURLs }

    /// Starts etcd and every agent.
    public func start() throws {
        try etcd.start()
        for agent in agents { try agent.start() }
        for agent in agents { try agent.waitForLog("registered host", seconds: 30) }
    }

    /// Runs `lockstep ARGUMENTS --etcd URLS` and returns what it printed; throws if it failed.
    @discardableResult
    public func lockstep(_ arguments: [String]) throws -> String {
        // The operator's commands that wait (switchover, move, drain) stop at their own --timeout.
        let result: CommandOutput
        do {
            result = try ShortCommand.run(options.lockstep, arguments + ["--etcd", etcdURLs], timeout: 330)
        } catch {
            throw PoolLogs.commandFailed("\(error)", agents: agents, directory: directory, hosts: hostNames)
        }
        guard result.succeeded else {
            throw PoolLogs.commandFailed("lockstep \(arguments.joined(separator: " ")) failed: \(result)", agents: agents, directory: directory, hosts: hostNames)
        }
        return result.standardOutput
    }

    /// The console endpoints of a VM whose ports start at `basePort`, on every host.
    public func consoleEndpoints(basePort: Int) -> [String] {
        hostNames.indices.map { "\(Self.address($0)):\(basePort + 2)" }
    }

    /// The log of `vm`'s nodes on host `name` (every node the host's agent started for it).
    public func nodeLog(_ vm: String, host name: String) throws -> String {
        let url = directory.appendingPathComponent(name).appendingPathComponent("\(vm).log")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    /// The `lockstep node` processes of host `name` now (this pool's only: its key file is in
    /// their command line, so that another pool on this machine with the same host names is left alone).
    public func nodeProcesses(of name: String) -> [Int32] {
        ProcessTable.find(containing: ["--node-id", name, "node", "--key-file", keyFile]).filter { $0 != getpid() }
    }

    /// The `lockstep node` process of `vm` on host `name` now (none or one).
    public func nodeProcesses(of name: String, vm: String) -> [Int32] {
        ProcessTable.find(containing: ["--node-id", name, "node", "--key-file", keyFile, "--vm", vm]).filter { $0 != getpid() }
    }

    /// The loss of host `name`: SIGKILL of its nodes, then of its agent.
    public func killHost(_ name: String) {
        for pid in nodeProcesses(of: name) { kill(pid, SIGKILL) }
        agents[hostNames.firstIndex(of: name)!].kill()
    }

    /// Starts a killed host's agent again.
    public func restartHost(_ name: String) throws {
        try agents[hostNames.firstIndex(of: name)!].start()
    }

    public func stop() {
        for agent in agents { agent.kill() }
        for name in hostNames {
            for pid in nodeProcesses(of: name) { kill(pid, SIGKILL) }
        }
        etcd.shutdown()
    }

    /// Every agent's log and each host's node logs.
    public var logs: String { PoolLogs.text(agents: agents, directory: directory, hosts: hostNames) }
}

/// Processes by their command line (`/proc/PID/cmdline`).
enum ProcessTable {
    /// The pids whose argument list contains every one of `arguments` as a whole argument.
    static func find(containing arguments: [String]) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let words = Set(data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            return arguments.allSatisfy(words.contains) ? pid : nil
        }
    }
}
