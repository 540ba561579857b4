import Foundation
import KVWorkload
import LockstepSupport

/// The guest's network measured with a real server and a client nobody here wrote (issue 14,
/// docs/benchmarks.md): Redis in the default guest, driven by Debian's `redis-benchmark`, on
/// Lockstep unreplicated (`lockstep run`), replicated (two `lockstep node`s and the arbiter), and
/// on QEMU (TCG) with the same kernel and initramfs, all in one run and all through libslirp's
/// user-mode network with a port forward, so that the three differ only in what runs the guest.
///
/// For each: requests per second with 1 and with `clients` connections, p50/p99 latency, bulk
/// transfer (64 KiB values) into and out of the guest, and the CPU time every process used
/// (Lockstep nodes, QEMU, redis-benchmark), so that the cost of the output rule can be told from
/// the cost of sharing two cores. The replicated run also reports the logging channel's
/// bandwidth (the primary's statistics lines).
public struct NetworkBenchmark {
    public var lockstep: String
    public var qemu = "qemu-system-riscv64"
    public var redisBenchmark = "redis-benchmark"
    /// The default guest's images (guests/linux/build.sh's directory).
    public var images: String
    public var requests = 20_000
    public var clients = 8
    public var bulkRequests = 300
    public var memoryMiB = 256
    public var report: (String) -> Void = { print($0) }

    public init(lockstep: String, images: String) {
        self.lockstep = lockstep
        self.images = images
    }

    static let append = "console=ttyS0 quiet lockstep.service=redis"

    /// One system's figures.
    struct Figures {
        var label: String
        var single: RedisBenchmarkResult
        var concurrent: RedisBenchmarkResult
        var bulk: RedisBenchmarkResult
        var cpu: [(String, Double)]
        var seconds: Double
    }

    /// The `lockstep-kv` executable, for the lab's failover measurement (next to `lockstep` by default).
    public var lockstepKV: String {
        URL(fileURLWithPath: lockstep).deletingLastPathComponent().appendingPathComponent("lockstep-kv").path
    }

    public func run(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if NetworkLab.isAvailable {
            try inLab(directory: directory.appendingPathComponent("lab"))
        } else {
            report("(no network namespaces here: \(NetworkLab.unavailableReason ?? "?"); the bridge measurements are skipped)")
        }
        var all: [Figures] = []
        all.append(try unreplicated(directory: directory))
        all.append(try replicated(directory: directory.appendingPathComponent("replicated")))
        all.append(try onQEMU(directory: directory))
        report("")
        report("summary (redis-benchmark over libslirp port forwards; set and get, \(requests) requests each):")
        for figures in all {
            report(String(format: "  %@: 1 client %.0f req/s (p50 %.3f ms, p99 %.3f ms); %d clients %.0f req/s (p50 %.3f ms, p99 %.3f ms); bulk 64 KiB: in %.1f MB/s, out %.1f MB/s",
                          figures.label, figures.single.requestsPerSecond, figures.single.p50, figures.single.p99,
                          clients, figures.concurrent.requestsPerSecond, figures.concurrent.p50, figures.concurrent.p99,
                          figures.bulk.megabytesIn, figures.bulk.megabytesOut))
            report("    CPU seconds over the run (\(String(format: "%.1f", figures.seconds)) s wall): "
                   + figures.cpu.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", "))
        }
        let (alone, pair) = (all[0], all[1])
        report(String(format: "replicated/unreplicated requests per second: 1 client %.3f, %d clients %.3f; added latency p50 %+.3f ms (1 client)",
                      pair.single.requestsPerSecond / alone.single.requestsPerSecond, clients,
                      pair.concurrent.requestsPerSecond / alone.concurrent.requestsPerSecond,
                      pair.single.p50 - alone.single.p50))
    }

    // MARK: The three systems

    func unreplicated(directory: URL) throws -> Figures {
        let port = try TestPorts.reserve()
        let process = NodeProcess(name: "run", executable: lockstep, arguments: [
            "run", "--console-port", "0", "--memory", "\(memoryMiB)", "--append", Self.append,
            "--netdev", "user,hostfwd=tcp:127.0.0.1:\(port)-:6379"], directory: directory)
        try process.start()
        defer { process.kill() }
        try waitForRedis(port: port, process: process, seconds: 120)
        return try measure(label: "Lockstep, unreplicated", port: port, processes: [("lockstep run", process.processIdentifier ?? 0)])
    }

    func replicated(directory: URL) throws -> Figures {
        let ports = try (0..<2).map { _ in try TestPorts.reserve() }
        var options = Cluster.Options(lockstep: lockstep)
        options.relays = false
        options.append = Self.append
        options.memoryMiB = memoryMiB
        options.statisticsInterval = 2
        options.nodeArguments = ports.map { ["--netdev", "user,hostfwd=tcp:127.0.0.1:\($0)-:6379"] }
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop() }
        try cluster.start()
        try waitForRedis(port: ports[0], process: cluster.nodes[0], seconds: 120)
        Thread.sleep(forTimeInterval: 0.5)
        let offset = cluster.nodes[0].log.count
        var processes = [("primary", cluster.nodes[0].processIdentifier ?? 0), ("backup", cluster.nodes[1].processIdentifier ?? 0)]
        if let arbiter = cluster.arbiterProcess { processes.append(("arbiter", arbiter.processIdentifier ?? 0)) }
        let figures = try measure(label: "Lockstep, replicated", port: ports[0], processes: processes)
        let log = String(cluster.nodes[0].log.dropFirst(offset))
        report("  logging channel during the replicated run (the primary's statistics, 2 s windows):")
        for line in log.split(separator: "\n") where LogfmtLogHandler.message(of: line).hasPrefix("log: ") { report("    " + LogfmtLogHandler.message(of: line)) }
        return figures
    }

    func onQEMU(directory: URL) throws -> Figures {
        let port = try TestPorts.reserve()
        let process = NodeProcess(name: "qemu", executable: "/usr/bin/env", arguments: [
            qemu, "-M", "virt", "-m", "\(memoryMiB)M", "-smp", "1", "-nographic", "-monitor", "none",
            "-kernel", images + "/Image", "-initrd", images + "/initramfs.cpio.gz", "-append", Self.append,
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:\(port)-:6379", "-device", "virtio-net-device,netdev=n0"],
            directory: directory)
        try process.start()
        defer { process.kill() }
        try waitForRedis(port: port, process: process, seconds: 120)
        return try measure(label: "QEMU TCG", port: port, processes: [("qemu", process.processIdentifier ?? 0)])
    }

    // MARK: On a bridge, in the namespace lab

    /// The replicated VM as deployed (``LabCluster``: TAPs on bridges, the client in its own
    /// namespace): redis-benchmark with the primary alone and with the backup attached, ping round
    /// trips to the guest, and the stall a client with one connection sees across SIGKILL of the
    /// primary.
    func inLab(directory: URL) throws {
        var options = LabCluster.Options(lockstep: lockstep, lockstepKV: lockstepKV)
        options.memoryMiB = memoryMiB
        let cluster = try LabCluster(options: options, directory: directory)
        defer { cluster.stop() }
        try cluster.startPrimary()
        report("on a bridge (network namespaces, the client in its own; the guest on a TAP on each host's bridge):")
        let alone = try measureInLab(cluster, label: "primary alone", processes: [("primary", cluster.nodes[0].processIdentifier ?? 0)])
        let alonePing = try ping(cluster)
        try cluster.rejoin(1)
        Thread.sleep(forTimeInterval: 0.5)
        let offset = cluster.nodes[0].log.count
        let pair = try measureInLab(cluster, label: "replicated", processes: [("primary", cluster.nodes[0].processIdentifier ?? 0),
                                                                          ("backup", cluster.nodes[1].processIdentifier ?? 0)])
        let pairPing = try ping(cluster)
        for line in String(cluster.nodes[0].log.dropFirst(offset)).split(separator: "\n") where LogfmtLogHandler.message(of: line).hasPrefix("log: ") {
            report("    " + LogfmtLogHandler.message(of: line))
        }
        report(String(format: "  ping round trip to the guest (50 pings, 20 ms apart): alone min/avg/max %@ ms; replicated %@ ms", alonePing, pairPing))
        report(String(format: "  replicated/alone requests per second: 1 client %.3f, %d clients %.3f; added latency p50 %+.3f ms (1 client), %+.3f ms (%d clients)",
                      pair.single.requestsPerSecond / alone.single.requestsPerSecond, clients,
                      pair.concurrent.requestsPerSecond / alone.concurrent.requestsPerSecond,
                      pair.single.p50 - alone.single.p50, pair.concurrent.p50 - alone.concurrent.p50, clients))
        let client = try cluster.startClient(seconds: 600)
        Thread.sleep(forTimeInterval: 3)
        let killed = monotonicSeconds()
        try cluster.inject(.killPrimary)
        let live = monotonicSeconds() - killed
        Thread.sleep(forTimeInterval: 3)
        client.stop()
        let summary = try client.summary()
        report(String(format: "  failover (SIGKILL of the primary): backup live after %.0f ms; the client's one connection %@, longest stall %.0f ms, %d writes acknowledged, %d lost",
                      live * 1000, summary.connectionKept ? "kept" : "LOST", summary.longestStallMilliseconds,
                      summary.acknowledgedWrites, summary.lostWrites.count))
    }

    func measureInLab(_ cluster: LabCluster, label: String, processes: [(String, Int32)]) throws -> Figures {
        let guest = cluster.lab.configuration.guestLANAddress
        return try measure(label: label, processes: processes) { arguments in
            let output = try cluster.lab.run(in: .client, "/bin/bash", [
                "-c", RedisBenchmarkResult.command(redisBenchmark, host: guest, port: 6379, arguments: arguments)], timeout: 600)
            guard output.succeeded else { throw FaultInjectionError.setup("redis-benchmark in the lab: \(output)") }
            return try RedisBenchmarkResult.parse(output.standardOutput, arguments: arguments)
        }
    }

    /// "min/avg/max" of 50 pings from the client to the guest.
    func ping(_ cluster: LabCluster) throws -> String {
        let output = try cluster.lab.run(in: .client, "ping", ["-c", "50", "-i", "0.02", "-q", "-n", cluster.lab.configuration.guestLANAddress], timeout: 60)
        guard let line = output.standardOutput.split(separator: "\n").first(where: { $0.contains("min/avg/max") }),
              let values = line.split(separator: "=").last?.trimmingCharacters(in: .whitespaces).split(separator: "/") else {
            throw FaultInjectionError.setup("ping printed no round trips: \(output)")
        }
        return values.prefix(3).joined(separator: "/")
    }

    // MARK: Measuring

    func measure(label: String, port: Int, processes: [(String, Int32)]) throws -> Figures {
        try measure(label: label, processes: processes) { arguments in
            try RedisBenchmarkResult.run(redisBenchmark, port: port, arguments: arguments)
        }
    }

    /// The three redis-benchmark runs (1 client, `clients` clients, bulk) through `benchmark`
    /// (which returns a run's result and the CPU seconds it used), with every process's CPU time.
    func measure(label: String, processes: [(String, Int32)],
                 benchmark: ([String]) throws -> (RedisBenchmarkResult, Double)) throws -> Figures {
        report("\(label):")
        let before = processes.map { ProcessCPU.seconds(of: $0.1) }
        let started = monotonicSeconds()
        var benchmarkCPU = 0.0
        func run(_ arguments: [String]) throws -> RedisBenchmarkResult {
            let (result, cpu) = try benchmark(arguments)
            benchmarkCPU += cpu
            return result
        }
        let single = try run(["-c", "1", "-n", "\(requests)", "-t", "set,get"])
        report(String(format: "  1 client: %.0f req/s, p50 %.3f ms, p99 %.3f ms", single.requestsPerSecond, single.p50, single.p99))
        let concurrent = try run(["-c", "\(clients)", "-n", "\(requests)", "-t", "set,get"])
        report(String(format: "  %d clients: %.0f req/s, p50 %.3f ms, p99 %.3f ms", clients, concurrent.requestsPerSecond, concurrent.p50, concurrent.p99))
        let bulk = try run(["-c", "1", "-n", "\(bulkRequests)", "-d", "65536", "-t", "set,get"])
        report(String(format: "  bulk (64 KiB values): into the guest %.1f MB/s, out of it %.1f MB/s", bulk.megabytesIn, bulk.megabytesOut))
        var cpu = zip(processes, before).map { ($0.0.0, ProcessCPU.seconds(of: $0.0.1) - $0.1) }
        cpu.append(("redis-benchmark", benchmarkCPU))
        let figures = Figures(label: label, single: single, concurrent: concurrent, bulk: bulk, cpu: cpu, seconds: monotonicSeconds() - started)
        report("  CPU seconds (\(String(format: "%.1f", figures.seconds)) s wall): " + cpu.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", "))
        return figures
    }
}

/// What one `redis-benchmark --csv` run printed, set and get taken together.
struct RedisBenchmarkResult {
    /// Per test ("SET", "GET"): requests per second, p50 and p99 latency in milliseconds.
    var tests: [String: (rps: Double, p50: Double, p99: Double)]
    var valueSize: Int

    var requestsPerSecond: Double { tests.values.map(\.rps).reduce(0, +) / Double(max(1, tests.count)) }
    var p50: Double { tests.values.map(\.p50).max() ?? 0 }
    var p99: Double { tests.values.map(\.p99).max() ?? 0 }
    var megabytesIn: Double { (tests["SET"]?.rps ?? 0) * Double(valueSize) / 1e6 }
    var megabytesOut: Double { (tests["GET"]?.rps ?? 0) * Double(valueSize) / 1e6 }

    /// The bash command that runs redis-benchmark with `--csv` and then `times` (whose last line
    /// is the CPU time its children used).
    static func command(_ executable: String, host: String, port: Int, arguments: [String]) -> String {
        ([executable, "-h", host, "-p", "\(port)", "--csv"] + arguments).map { "'\($0)'" }.joined(separator: " ") + " && times"
    }

    /// Runs redis-benchmark here (see ``command(_:host:port:arguments:)``).
    static func run(_ executable: String, port: Int, arguments: [String]) throws -> (RedisBenchmarkResult, Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command(executable, host: "127.0.0.1", port: port, arguments: arguments)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FaultInjectionError.setup("redis-benchmark \(arguments.joined(separator: " ")) failed (status \(process.terminationStatus)): \(output)")
        }
        return try parse(output, arguments: arguments)
    }

    /// Reads what ``command(_:host:port:arguments:)`` printed: the results and the CPU seconds.
    static func parse(_ output: String, arguments: [String]) throws -> (RedisBenchmarkResult, Double) {
        var tests: [String: (Double, Double, Double)] = [:]
        var cpu = 0.0
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }
            // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
            if fields.count >= 7, let rps = Double(fields[1]), let p50 = Double(fields[4]), let p99 = Double(fields[6]) {
                tests[fields[0]] = (rps, p50, p99)
            } else if line.contains("m") && line.contains("s ") {
                // `times`: "0m0.010s 0m0.020s" for the shell, then the same for its children.
                cpu = line.split(separator: " ").compactMap(Self.seconds).reduce(0, +)
            }
        }
        guard !tests.isEmpty else { throw FaultInjectionError.setup("redis-benchmark printed no results: \(output)") }
        let size = arguments.firstIndex(of: "-d").map { Int(arguments[$0 + 1]) ?? 3 } ?? 3
        return (RedisBenchmarkResult(tests: tests, valueSize: size), cpu)
    }

    /// "1m2.500s" -> 62.5.
    static func seconds(_ text: Substring) -> Double? {
        guard let m = text.firstIndex(of: "m"), text.hasSuffix("s"),
              let minutes = Double(text[..<m]), let seconds = Double(text[text.index(after: m)..<text.index(before: text.endIndex)]) else { return nil }
        return minutes * 60 + seconds
    }
}

/// CPU time (user + system) a process has used so far, from /proc/PID/stat.
enum ProcessCPU {
    static func seconds(of pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Waits until Redis in the guest answers PING through a forward on 127.0.0.1:`port`, while
/// `process` (the machine running it) still runs.
func waitForRedis(port: Int, process: NodeProcess, seconds: Double) throws {
    let deadline = monotonicSeconds() + seconds
    let endpoint = Endpoint(host: "127.0.0.1", port: UInt16(port))
    while monotonicSeconds() < deadline {
        if let client = try? RedisClient(endpoint: endpoint, connectTimeout: 1, requestTimeout: 2) {
            defer { client.close() }
            if (try? client.ping()) == "PONG" { return }
        }
        guard process.isRunning else { throw FaultInjectionError.setup("\(process.name) exited before Redis answered; its log:\n\(process.log)") }
        usleep(200_000)
    }
    throw FaultInjectionError.timeout("Redis on 127.0.0.1:\(port) did not answer PING within \(seconds) s; log:\n\(process.log)")
}
