import Foundation
import KVWorkload
import LockstepSupport

/// What Lockstep is for, shown on one machine (the README's first command): an arbiter and two
/// hosts, the Redis guest protected on them, a client writing over one TCP connection, SIGKILL of
/// the primary, and a timeline of what happened, then everything cleaned up.
///
/// As root (network namespaces available) the hosts, the LAN, the two lines and the arbiter are
/// namespaces (``LabCluster``) and the guest is on a bridge: the client's connection survives.
/// Otherwise the nodes run on loopback with user-mode networking and a port forward each: the
/// service survives, but libslirp ends the client's TCP on a host socket that dies with the
/// host, so the client connects again to the survivor (and the demo says so).
public struct FailoverDemo {
    public var lockstep: String
    public var lockstepKV: String
    public var memoryMiB = 256
    /// Seconds of writing before and after the kill.
    public var writeSeconds = 4.0
    public var say: (String) -> Void = { print($0) }
    /// Loopback and user-mode networking even where namespaces are available.
    public var loopbackOnly = false
    /// The two-host demo in namespaces even where a pool can run (etcd installed).
    public var pairOnly = false
    private let started = monotonicSeconds()

    public init(lockstep: String, lockstepKV: String) {
        self.lockstep = lockstep
        self.lockstepKV = lockstepKV
    }

    func line(_ text: String) {
        say(String(format: "%7.1f s  ", monotonicSeconds() - started) + text)
    }

    /// Runs the demo; true when no acknowledged write was lost (and, with namespaces, the
    /// connection was kept).
    public func run(directory: URL) throws -> Bool {
        if NetworkLab.isAvailable && !loopbackOnly {
            if !pairOnly && EtcdCluster.executable != nil { return try inPool(directory: directory) }
            return try inNamespaces(directory: directory)
        }
        say("lockstep demo: " + (loopbackOnly ? "--loopback" : "no network namespaces here (\(NetworkLab.unavailableReason ?? "?"))")
            + ": the nodes run on loopback with user-mode networking")
        return try onLoopback(directory: directory)
    }

    /// The pool: three hosts in namespaces, each with a `lockstep agent` and an etcd member, the
    /// Redis VM declared with `lockstep vm create`, the host of its primary killed, and the pool
    /// putting it back under protection by itself.
    func inPool(directory: URL) throws -> Bool {
        say("lockstep demo: running as root with etcd, so this is a pool: three hosts (network namespaces ha, hb, hc),")
        say("each with a `lockstep agent` and an etcd member, a LAN switch and a client; the Redis VM is declared, not started by hand")
        var options = PoolLab.Options(lockstep: lockstep, lockstepKV: lockstepKV)
        options.vmCount = 1
        options.vmMemoryMiB = memoryMiB
        options.heartbeatTimeoutMilliseconds = 400
        let pool = try PoolLab(options: options, directory: directory)
        defer { pool.stop(); line("stopped every process and removed the namespaces") }
        let vm = pool.vmNames[0]
        line("starting etcd and the agents; `lockstep vm create \(vm) --memory \(memoryMiB) --disk \(options.diskMiB) --netdev bridge,...` (Redis at \(pool.serviceEndpoint(vm)))")
        try pool.start()
        let (primary, backup) = try pool.roles(vm)
        guard let primary, let backup else { throw FaultInjectionError.setup("no primary and backup for \(vm): \(try pool.statusRow(vm))") }
        line("protected: primary on \(primary), backup on \(backup) (placed by the pool's leader); Redis answers")
        let client = try pool.startClient(vm, name: "demo")
        line("client (in its own namespace): one TCP connection to Redis, writing without pause")
        Thread.sleep(forTimeInterval: writeSeconds)
        pool.killHost(primary)
        let killed = monotonicSeconds()
        line("host \(primary) killed (its agent, node and etcd member SIGKILLed): the primary is lost")
        let survivors = Set(pool.hostNames).subtracting([primary])
        try pool.waitUntilAllLive(on: survivors, seconds: 60)
        line("`lockstep vm list` shows the backup on \(backup) live \(Int((monotonicSeconds() - killed) * 1000)) ms after the kill (it went live after a 400 ms heartbeat timeout and its claim in etcd, announcing the guest's MAC from its host; the client's stall below is what it cost)")
        try pool.waitUntilAllProtected(on: survivors, seconds: 120)
        let third = try pool.roles(vm).backup ?? "?"
        line("protected again after \(String(format: "%.1f", monotonicSeconds() - killed)) s: the pool placed a new backup on \(third) and copied memory and disk to it while the guest ran")
        Thread.sleep(forTimeInterval: writeSeconds)
        client.stop()
        let summary = try client.summary()
        line("client: \(summary.acknowledgedWrites) writes acknowledged; stalled \(Int(summary.longestStallMilliseconds)) ms at most; connection \(summary.connectionKept ? "kept" : "LOST (\(summary.error ?? "?"))"); \(summary.lostWrites.count) acknowledged writes lost")
        let violations = pool.releaseViolations(vm)
        line(violations.isEmpty ? "release log: never two primaries" : "release log: TWO PRIMARIES: \(violations)")
        return summary.connectionKept && summary.lostWrites.isEmpty && summary.verificationError == nil && violations.isEmpty
    }

    func inNamespaces(directory: URL) throws -> Bool {
        say("lockstep demo: running as root, so the hosts are network namespaces: an arbiter, host A, host B, a client,")
        say("a LAN switch and two replication lines; the guest (Redis) is on a TAP on each host's bridge")
        var options = LabCluster.Options(lockstep: lockstep, lockstepKV: lockstepKV)
        options.memoryMiB = memoryMiB
        let cluster = try LabCluster(options: options, directory: directory)
        defer { cluster.stop(); line("stopped every process and removed the namespaces") }
        line("starting the arbiter and host A; A boots the Redis guest at \(cluster.serviceEndpoint)")
        try cluster.startPrimary()
        line("Redis answers; host B joins as the backup (the machine copied while the guest pauses)")
        try cluster.rejoin(1)
        if let pause = cluster.nodes[0].log.split(separator: "\n").last(where: { $0.contains("initial state") }) {
            line("protected: A primary, B backup (\(LogfmtLogHandler.message(of: pause)))")
        } else {
            line("protected: A primary, B backup")
        }
        let client = try cluster.startClient(seconds: 600)
        line("client (in its own namespace): one TCP connection to Redis, writing without pause")
        Thread.sleep(forTimeInterval: writeSeconds)
        let offset = cluster.nodes[1].log.count
        cluster.nodes[0].kill()
        let killed = monotonicSeconds()
        line("SIGKILL of host A's node: the primary is lost")
        try cluster.nodes[1].waitForLog("live as primary", after: offset, seconds: 30)
        line("backup B live after \(Int((monotonicSeconds() - killed) * 1000)) ms (heartbeat timeout \(options.heartbeatTimeoutMilliseconds) ms, then the arbiter); it announces the guest's MAC from host B")
        Thread.sleep(forTimeInterval: writeSeconds)
        client.stop()
        let summary = try client.summary()
        line("client: \(summary.acknowledgedWrites) writes acknowledged; stalled \(Int(summary.longestStallMilliseconds)) ms at most; connection \(summary.connectionKept ? "kept" : "LOST (\(summary.error ?? "?"))"); \(summary.lostWrites.count) acknowledged writes lost")
        let rejoinStart = monotonicSeconds()
        try cluster.rejoin(0)
        line("host A's node restarted: re-protected after \(Int((monotonicSeconds() - rejoinStart) * 1000)) ms (A is the new backup)")
        let violations = cluster.releaseViolations()
        line(violations.isEmpty ? "release log: never two primaries" : "release log: TWO PRIMARIES: \(violations)")
        return summary.connectionKept && summary.lostWrites.isEmpty && summary.verificationError == nil && violations.isEmpty
    }

    func onLoopback(directory: URL) throws -> Bool {
        let ports = try (0..<2).map { _ in try TestPorts.reserve() }
        var options = Cluster.Options(lockstep: lockstep)
        options.relays = false
        options.append = "console=ttyS0 quiet lockstep.service=redis"
        options.memoryMiB = memoryMiB
        options.nodeArguments = ports.map { ["--netdev", "user,hostfwd=tcp:127.0.0.1:\($0)-:6379"] }
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop(); line("stopped every process") }
        line("starting the arbiter and node A (Redis forwarded from 127.0.0.1:\(ports[0])); A boots the guest")
        try cluster.startArbiter()
        try cluster.nodes[0].start()
        try cluster.waitUntilLive(0, seconds: 60)
        try waitForRedis(port: ports[0], process: cluster.nodes[0], seconds: 180)
        try cluster.rejoin(1)
        line("protected: A primary, B backup (B forwards 127.0.0.1:\(ports[1]) once live)")
        let writer = RedisWriter(options: RedisWriter.Options(endpoint: Endpoint(host: "127.0.0.1", port: UInt16(ports[0])), keys: 500,
                                                               duration: 600, requestTimeout: 30))
        let writing = Thread { writer.write() }
        writing.start()
        line("client: one TCP connection to Redis through A's forward, writing without pause")
        Thread.sleep(forTimeInterval: writeSeconds)
        let offset = cluster.nodes[1].log.count
        cluster.nodes[0].kill()
        let killed = monotonicSeconds()
        line("SIGKILL of node A: the primary is lost (and with it libslirp's end of the client's TCP connection)")
        try cluster.nodes[1].waitForLog("live as primary", after: offset, seconds: 30)
        line("backup B live after \(Int((monotonicSeconds() - killed) * 1000)) ms")
        writer.stop()
        while writing.isExecuting || !writing.isFinished { usleep(10_000) }
        let ledger = writer.ledger
        let survivor = try RedisClient(endpoint: Endpoint(host: "127.0.0.1", port: UInt16(ports[1])), connectTimeout: 5, requestTimeout: 10)
        defer { survivor.close() }
        var lost = 0
        for (key, _) in ledger.values where ledger.check(key: key, found: try survivor.get(key)) != nil { lost += 1 }
        line("client: \(ledger.acknowledgedWrites) writes acknowledged through A; connected again through B's forward: \(lost) lost")
        line("(with user-mode networking a failover keeps the service, not the connection; run as root for namespaces and a bridge)")
        return lost == 0
    }
}
