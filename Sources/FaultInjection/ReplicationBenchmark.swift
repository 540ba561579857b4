import Foundation

/// Replicated vs unreplicated in one run, on the shell guest (docs/benchmarks.md):
/// request latency (a shell `echo` round trip through the console port), guest throughput (a
/// CPU-bound shell loop, timed from the host), the logging channel's bandwidth, and the pause
/// from SIGKILL of the primary to the first answer of the new one.
public struct ReplicationBenchmark {
    public var options: Cluster.Options
    public var requests = 300
    public var loopIterations = 100_000
    public var failovers = 5
    public var report: (String) -> Void = { print($0) }

    public init(options: Cluster.Options) { self.options = options }

    public struct Measurement {
        public var latencies: [Double]
        public var loopSeconds: Double
        public func percentile(_ p: Double) -> Double {
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
    }

    public func run(directory: URL) throws {
        var options = self.options
        options.append = "console=ttyS0 quiet"
        options.statisticsInterval = 2
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop() }
        try cluster.startArbiter()
        try cluster.nodes[0].start()
        try cluster.waitUntilLive(0, seconds: 60)
        guard ConsoleProbe.ask(port: cluster.consolePorts[0], command: "echo up$((1+1))", expecting: "up2", seconds: 30) != nil else {
            throw FaultInjectionError.timeout("the guest's shell did not answer")
        }
        let alone = try measure(port: cluster.consolePorts[0], label: "unreplicated (primary alone)")
        try cluster.rejoin(1)
        Thread.sleep(forTimeInterval: 1)
        let replicated = try measure(port: cluster.consolePorts[0], label: "replicated (backup attached)")
        Thread.sleep(forTimeInterval: 2.5)
        let statistics = cluster.nodes[0].log.split(separator: "\n").filter { $0.contains(" log: ") }.suffix(3)
        report("logging channel, last statistics lines of the primary (2 s windows):")
        for line in statistics { report("  " + line) }
        report(String(format: "throughput ratio replicated/unreplicated: %.3f (loop time %.3f s vs %.3f s)",
                      alone.loopSeconds / replicated.loopSeconds, replicated.loopSeconds, alone.loopSeconds))
        report(String(format: "added latency per request: p50 %+.3f ms, p99 %+.3f ms",
                      (replicated.percentile(0.5) - alone.percentile(0.5)) * 1000, (replicated.percentile(0.99) - alone.percentile(0.99)) * 1000))

        var pauses: [Double] = []
        for round in 1...failovers {
            guard let live = cluster.primary else { throw FaultInjectionError.setup("no primary before failover \(round)") }
            let survivor = 1 - live
            cluster.nodes[live].kill()
            let killed = Date()
            var answered: Date?
            while answered == nil && Date().timeIntervalSince(killed) < 30 {
                if ConsoleProbe.ask(port: cluster.consolePorts[survivor], command: "echo f$((\(round)+0))", expecting: "f\(round)\r\n",
                                    seconds: 0.5, resendEvery: 0.1) != nil {
                    answered = Date()
                } else {
                    usleep(5_000)
                }
            }
            guard let answered else { throw FaultInjectionError.timeout("no answer after failover \(round)\n\(cluster.logs)") }
            let pause = answered.timeIntervalSince(killed)
            pauses.append(pause)
            report(String(format: "failover %d: SIGKILL of %@ -> first answer from %@ after %.0f ms", round,
                          cluster.nodes[live].name, cluster.nodes[survivor].name, pause * 1000))
            try cluster.rejoin(live)
        }
        let sorted = pauses.sorted()
        report(String(format: "failover pause: median %.0f ms, max %.0f ms (heartbeat timeout %d ms)",
                      sorted[sorted.count / 2] * 1000, sorted.last! * 1000, options.heartbeatTimeoutMilliseconds))
        let violations = cluster.releaseViolations()
        report(violations.isEmpty ? "release log: never two primaries" : "release log: \(violations)")
    }

    func measure(port: Int, label: String) throws -> Measurement {
        guard let session = ConsoleSession(port: port) else { throw FaultInjectionError.setup("console port \(port) refused") }
        for i in 0..<10 { _ = session.request("echo w$((\(i)+0))\n", expecting: "w\(i)\r\n", seconds: 10) }
        var latencies: [Double] = []
        for i in 0..<requests {
            guard let seconds = session.request("echo t$((\(i)+0))\n", expecting: "t\(i)\r\n", seconds: 10) else {
                throw FaultInjectionError.timeout("request \(i) (\(label))")
            }
            latencies.append(seconds)
        }
        let loop = "i=0; while [ $i -lt \(loopIterations) ]; do i=$((i+1)); done; echo loop$((6*7))\n"
        guard let loopSeconds = session.request(loop, expecting: "loop42\r\n", seconds: 300) else {
            throw FaultInjectionError.timeout("the loop (\(label))")
        }
        let m = Measurement(latencies: latencies, loopSeconds: loopSeconds)
        report(String(format: "%@: request latency p50 %.3f ms, p99 %.3f ms (%d requests); loop of %d iterations %.3f s",
                      label, m.percentile(0.5) * 1000, m.percentile(0.99) * 1000, requests, loopIterations, loopSeconds))
        return m
    }
}
