import Foundation
import KVWorkload
import LockstepSupport

/// Replicated vs unreplicated in one run (docs/benchmarks.md, issue 5):
///
/// - the key-value guest: request latency and requests per second of one client writing
///   without pause, with the primary alone and then with a backup attached; the logging channel's
///   bandwidth; the pause from SIGKILL of the primary to the first acknowledged write from the new
///   primary, several times in a row;
/// - the shell guest: guest throughput, a CPU-bound shell loop timed from the host, alone and
///   replicated.
public struct ReplicationBenchmark {
    public var options: Cluster.Options
    public var requests = 1000
    public var loopIterations = 100_000
    public var failovers = 5
    /// Clients of the concurrent-writes measurement.
    public var concurrentClients = 8
    /// Alone/replicated pairs of the CPU loop.
    public var loopPairs = 3
    public var report: (String) -> Void = { print($0) }

    public init(options: Cluster.Options) {
        self.options = options
        self.options.relays = false   // the nodes talk directly, as on two hosts
    }

    struct Latencies {
        var samples: [Double]
        var seconds: Double
        func percentile(_ p: Double) -> Double {
            let sorted = samples.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        var perSecond: Double { Double(samples.count) / seconds }
    }

    public func run(directory: URL) throws {
        try keyValue(directory: directory.appendingPathComponent("kv"))
        try loop(directory: directory.appendingPathComponent("shell"))
    }

    // MARK: The key-value guest

    func keyValue(directory: URL) throws {
        var options = self.options
        options.append = "console=ttyS0 quiet lockstep.service=kv"
        options.statisticsInterval = 2
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop() }
        try cluster.startArbiter()
        try cluster.nodes[0].start()
        try cluster.waitUntilLive(0, seconds: 60)
        let endpoints = try cluster.endpoints.map { text throws in try Endpoint(parsing: text, allowsPortZero: false) }
        let client = try KVClient(endpoints: endpoints, name: "bench",
                                  options: KVClient.Options(requestTimeout: 2, connectTimeout: 1, deadline: 60, retryPause: 0.005))
        defer { client.close() }
        try client.connect()
        let alone = try writes(client, label: "unreplicated (primary alone)")
        let aloneConcurrent = concurrentWrites(endpoints, label: "unreplicated (primary alone)")
        try cluster.rejoin(1)
        Thread.sleep(forTimeInterval: 0.5)
        for line in cluster.nodes[0].log.split(separator: "\n") where line.contains("initial state") { report("  " + LogfmtLogHandler.message(of: line)) }
        let statisticsStart = cluster.nodes[0].log.count
        let replicated = try writes(client, label: "replicated (backup attached)")
        let replicatedConcurrent = concurrentWrites(endpoints, label: "replicated (backup attached)")
        Thread.sleep(forTimeInterval: 2.1)
        report(String(format: "writes per second with %d clients, replicated/unreplicated: %.3f (%.0f vs %.0f)",
                      concurrentClients, replicatedConcurrent / aloneConcurrent, replicatedConcurrent, aloneConcurrent))
        report(String(format: "requests per second, replicated/unreplicated: %.3f (%.0f vs %.0f)",
                      replicated.perSecond / alone.perSecond, replicated.perSecond, alone.perSecond))
        report(String(format: "added latency per request (output rule): p50 %+.3f ms, p99 %+.3f ms",
                      (replicated.percentile(0.5) - alone.percentile(0.5)) * 1000, (replicated.percentile(0.99) - alone.percentile(0.99)) * 1000))
        let log = String(cluster.nodes[0].log.dropFirst(statisticsStart))
        report("logging channel during the replicated writes (the primary's statistics, 2 s windows):")
        for line in log.split(separator: "\n") where LogfmtLogHandler.message(of: line).hasPrefix("log: ") { report("  " + LogfmtLogHandler.message(of: line)) }

        var pauses: [Double] = []
        for round in 1...failovers {
            guard let live = cluster.primary else { throw FaultInjectionError.setup("no primary before failover \(round)") }
            let survivor = 1 - live
            try client.set("warm", to: "r\(round)")
            cluster.nodes[live].kill()
            let killed = monotonicSeconds()
            try client.set("failover", to: "r\(round)")
            let pause = monotonicSeconds() - killed
            pauses.append(pause)
            report(String(format: "failover %d: SIGKILL of %@ -> first acknowledged write from %@ after %.0f ms", round,
                          cluster.nodes[live].name, cluster.nodes[survivor].name, pause * 1000))
            try cluster.rejoin(live)
        }
        let sorted = pauses.sorted()
        report(String(format: "failover pause: median %.0f ms, max %.0f ms (heartbeat interval %d ms, timeout %d ms)",
                      sorted[sorted.count / 2] * 1000, sorted.last! * 1000,
                      options.heartbeatIntervalMilliseconds, options.heartbeatTimeoutMilliseconds))
        let violations = cluster.releaseViolations()
        report(violations.isEmpty ? "release log: never two primaries" : "release log: \(violations)")
    }

    /// Several clients writing at once (each with one request in flight): writes per second.
    func concurrentWrites(_ endpoints: [Endpoint], label: String) -> Double {
        let generator = LoadGenerator(options: LoadGenerator.Options(
            endpoints: endpoints, clients: concurrentClients, writes: concurrentClients * 300, readEvery: 1_000_000,
            client: KVClient.Options(requestTimeout: 2, connectTimeout: 1, deadline: 60, retryPause: 0.005)))
        let summary = generator.run()
        let perSecond = Double(summary.writesAcknowledged) / summary.seconds
        report(String(format: "%@, %d clients: %d writes, %.0f per second, latency p50 %.3f ms, p99 %.3f ms",
                      label, concurrentClients, summary.writesAcknowledged, perSecond, summary.latencyP50 * 1000, summary.latencyP99 * 1000))
        return perSecond
    }

    func writes(_ client: KVClient, label: String) throws -> Latencies {
        for i in 0..<20 { try client.set("w\(i % 10)", to: "warm\(i)") }
        var samples: [Double] = []
        let start = monotonicSeconds()
        for i in 0..<requests {
            let before = monotonicSeconds()
            try client.set("k\(i % 50)", to: "\(label.prefix(1))\(i)")
            samples.append(monotonicSeconds() - before)
        }
        let result = Latencies(samples: samples, seconds: monotonicSeconds() - start)
        report(String(format: "%@: %d writes, %.0f per second, latency p50 %.3f ms, p99 %.3f ms",
                      label, requests, result.perSecond, result.percentile(0.5) * 1000, result.percentile(0.99) * 1000))
        return result
    }

    // MARK: The shell guest

    func loop(directory: URL) throws {
        var options = self.options
        options.append = "console=ttyS0 quiet"
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop() }
        try cluster.startArbiter()
        try cluster.nodes[0].start()
        try cluster.waitUntilLive(0, seconds: 60)
        guard ConsoleProbe.ask(port: cluster.consolePorts[0], command: "echo up$((1+1))", expecting: "up2", seconds: 30) != nil else {
            throw FaultInjectionError.timeout("the guest's shell did not answer")
        }
        // Alternate: alone, then with a backup, then alone again (the backup killed, the primary
        // continues after winning the arbiter), and so on; each pair gives a ratio.
        var ratios: [Double] = []
        for pair in 1...loopPairs {
            let alone = try timeLoop(port: cluster.consolePorts[0], label: "pair \(pair), unreplicated (primary alone)")
            try cluster.rejoin(1)
            Thread.sleep(forTimeInterval: 0.5)
            let replicated = try timeLoop(port: cluster.consolePorts[0], label: "pair \(pair), replicated (backup attached)")
            ratios.append(alone / replicated)
            let offset = cluster.nodes[0].log.count
            cluster.nodes[1].kill()
            try cluster.nodes[0].waitForLog("won the arbiter", after: offset, seconds: 15)
            Thread.sleep(forTimeInterval: 0.5)
        }
        report("guest throughput, replicated/unreplicated, per pair: " + ratios.map { String(format: "%.3f", $0) }.joined(separator: ", ")
               + String(format: "; median %.3f", ratios.sorted()[ratios.count / 2]))
    }

    func timeLoop(port: Int, label: String) throws -> Double {
        guard let session = ConsoleSession(port: port) else { throw FaultInjectionError.setup("console port \(port) refused") }
        let loop = "i=0; while [ $i -lt \(loopIterations) ]; do i=$((i+1)); done; echo loop$((6*7))\n"
        guard let seconds = session.request(loop, expecting: "loop42\r\n", seconds: 300) else {
            throw FaultInjectionError.timeout("the loop (\(label))")
        }
        report(String(format: "%@: shell loop of %d iterations in %.3f s", label, loopIterations, seconds))
        return seconds
    }
}
