import Foundation
import KVWorkload
import LockstepSupport

/// A real etcd cluster for tests and the soak: `members` etcd processes (Debian's `etcd-server`)
/// on loopback ports (or, in a lab, each in its host's namespace), each with its own data
/// directory under `directory`, forming one cluster. Members can be killed and started again;
/// ``shutdown()`` kills them all.
public final class EtcdCluster: @unchecked Sendable {
    /// One member.
    public struct Member: Sendable {
        public let name: String
        public let host: String
        public let clientPort: Int
        public let peerPort: Int
        /// The network namespace the member runs in (nil: this process's own).
        public let namespace: String?
        public var clientURL: String { "http://\(host):\(clientPort)" }
        public var peerURL: String { "http://\(host):\(peerPort)" }
    }

    public let members: [Member]
    public let processes: [NodeProcess]
    public let directory: URL

    /// The client URLs of every member, comma-separated (`--etcd`).
    public var clientURLs: String { members.map(\.clientURL).joined(separator: ",") }

    /// Where Debian's etcd-server puts the server.
    public static var executable: String? {
        ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Prepares `count` members on 127.0.0.1 (or on `hosts[i]` inside `namespaces[i]`, a lab's)
    /// and, unless `start` is false (then ``start(timeout:)`` does it), starts them and waits
    /// until the cluster answers.
    public init(count: Int = 1, directory: URL, hosts: [String]? = nil, namespaces: [String?]? = nil,
                start: Bool = true, timeout: Double = 30) throws {
        guard let executable = Self.executable else {
            throw FaultInjectionError.setup("etcd is not installed: apt-get install etcd-server (scripts/install-deps.sh does)")
        }
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var members: [Member] = []
        for index in 0..<count {
            let host = hosts?[index] ?? "127.0.0.1"
            let inNamespace = namespaces?[index] != nil
            // In a namespace the ports are free by construction; on loopback they are reserved.
            let clientPort = inNamespace ? 2379 : try TestPorts.reserve()
            let peerPort = inNamespace ? 2380 : try TestPorts.reserve()
            members.append(Member(name: "etcd\(index)", host: host, clientPort: clientPort, peerPort: peerPort,
                                  namespace: namespaces?[index] ?? nil))
        }
        self.members = members
        let initialCluster = members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        let token = "lockstep-\(UUID().uuidString.prefix(8))"
        processes = members.enumerated().map { index, member in
            NodeProcess(name: member.name, executable: executable, arguments: [
                "--name", member.name,
                "--data-dir", directory.appendingPathComponent(member.name).path,
                "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
                "--listen-peer-urls", member.peerURL, "--initial-advertise-peer-urls", member.peerURL,
                "--initial-cluster", initialCluster, "--initial-cluster-token", token,
                "--initial-cluster-state", "new",
                // Quick elections for tests (etcd's defaults: 100 ms heartbeat, 1 s election).
                "--heartbeat-interval", "50", "--election-timeout", "500",
                "--logger", "zap", "--log-outputs", "stderr",
            ], directory: directory, namespace: namespaces?[index] ?? nil)
        }
        if start { try self.start(timeout: timeout) }
    }

    /// Starts every member that is not running and waits until the cluster answers.
    public func start(timeout: Double = 30) throws {
        do {
            for process in processes where !process.isRunning { try process.start() }
            try waitUntilServing(timeout: timeout)
        } catch {
            shutdown()
            throw error
        }
    }

    /// Waits until a write through every running member is answered (a leader exists).
    public func waitUntilServing(timeout: Double = 30) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        for (index, member) in members.enumerated() where processes[index].isRunning {
            while true {
                if Self.answers(member) { break }
                if !processes[index].isRunning {
                    throw FaultInjectionError.setup("etcd member \(member.name) exited; its log:\n\(processes[index].log.suffix(3000))")
                }
                if Date() > deadline {
                    throw FaultInjectionError.timeout("etcd member \(member.name) did not serve within \(timeout) s; its log:\n\(processes[index].log.suffix(3000))")
                }
                usleep(50_000)
            }
        }
    }

    /// Whether `member` answers a put (which needs a leader and a quorum). A blocking request:
    /// the harness is synchronous and may run on Swift concurrency's few threads. A member in a
    /// lab's namespace is asked from there, by curl (this process is not on the lab's networks).
    static func answers(_ member: Member) -> Bool {
        let put = Array(#"{"key":"L2xvY2tzdGVwL3Byb2Jl","value":"MQ=="}"#.utf8)   // /lockstep/probe = 1
        if let namespace = member.namespace {
            guard let ip = NetworkLab.ipExecutable, let curl = ShortCommand.find("curl"),
                  let answer = try? ShortCommand.run(ip, ["netns", "exec", namespace, curl, "-s", "-m", "2", "-d", String(decoding: put, as: UTF8.self),
                                                          member.clientURL + "/v3/kv/put"], timeout: 10) else { return false }
            return answer.succeeded && answer.standardOutput.contains("\"revision\"")
        }
        guard let answer = try? HTTPExchange.request(to: Endpoint(host: member.host, port: UInt16(member.clientPort)),
                                                     path: "/v3/kv/put", body: put, timeout: 2) else { return false }
        return answer.status == 200 && String(decoding: answer.body, as: UTF8.self).contains("\"revision\"")
    }

    /// SIGKILL one member (a host or disk loss for etcd).
    public func kill(member index: Int) { processes[index].kill() }

    /// Starts a killed member again on its data directory (it rejoins the cluster).
    public func restart(member index: Int) throws {
        guard !processes[index].isRunning else { return }
        try processes[index].start()
    }

    /// Kills every member.
    public func shutdown() {
        for process in processes { process.kill() }
    }

    deinit { shutdown() }
}
