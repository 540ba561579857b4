import FaultInjection
import Foundation
@testable import Pool
import Testing

/// Health by latency percentiles: the window and the judgement driven with a virtual clock, then
/// the probe against a real redis-server, which is frozen (SIGSTOP: it accepts connections but
/// never answers, a gray failure) and thawed.
@Suite struct ServiceHealthTests {
    @Test func percentilesAreNearestRankOverTheWindow() {
        var window = LatencyWindow(span: 10)
        for i in 1...100 { window.add(latency: Double(i) / 1000, at: Double(i) * 0.05) }
        #expect(window.percentile(0.5) == 0.050)
        #expect(window.percentile(0.99) == 0.099)
        #expect(window.percentile(0.999) == 0.100)
        // Ten seconds later only the new samples count.
        window.add(latency: 0.5, at: 20)
        #expect(window.samples.count == 1)
        #expect(window.percentile(0.5) == 0.5)
    }

    @Test func healthyDegradedFailingAndUnknown() {
        var window = LatencyWindow(span: 30)
        #expect(ServiceHealth.judge(window, thresholdMilliseconds: 10).state == .unknown)
        for i in 0..<50 { window.add(latency: 0.002, at: Double(i)) }
        #expect(ServiceHealth.judge(window, thresholdMilliseconds: 10).state == .healthy)
        // A gray failure: answers keep coming, but slowly.
        for i in 50..<60 { window.add(latency: 0.040, at: Double(i) * 0.5) }
        let degraded = ServiceHealth.judge(window, thresholdMilliseconds: 10)
        #expect(degraded.state == .degraded)
        #expect(degraded.p99 == 40)
        #expect(degraded.p50 == 2)
        // Silence: three unanswered probes in a row.
        for i in 0..<3 { window.add(latency: nil, at: 31 + Double(i)) }
        #expect(ServiceHealth.judge(window, thresholdMilliseconds: 10).state == .failing)
        window.add(latency: 0.001, at: 35)
        #expect(ServiceHealth.judge(window, thresholdMilliseconds: 10).state != .failing)
    }

    @Test func probeSpecsParseOrSayWhatIsExpected() throws {
        #expect(try ProbeSpec(parsing: "redis://10.0.0.10:6379") == ProbeSpec(kind: .redis, address: "10.0.0.10", port: 6379))
        #expect(try ProbeSpec(parsing: "http://10.0.0.10:80/health").path == "/health")
        for bad in ["redis://10.0.0.10", "ftp://x:1", "10.0.0.10:6379", "tcp://:80", "tcp://x:0"] {
            #expect(throws: PoolError.self, "\(bad)") { try ProbeSpec(parsing: bad) }
        }
    }

    @Test(.enabled(if: ["/usr/bin/redis-server", "/usr/sbin/redis-server"].contains { FileManager.default.isExecutableFile(atPath: $0) }))
    func aFrozenRedisGoesFromHealthyToFailingAndBack() throws {
        let executable = ["/usr/bin/redis-server", "/usr/sbin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }!
        // A port from below the ephemeral range: a random one in it was once taken by an outgoing
        // connection of the loaded test run, and redis-server exited with "address already in use".
        let port = try TestPorts.reserve()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: executable)
        server.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        let output = Pipe()
        server.standardOutput = output
        server.standardError = output
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let spec = ProbeSpec(kind: .redis, address: "127.0.0.1", port: port, thresholdMilliseconds: 200)
        var answered: Double?
        for _ in 0..<50 where answered == nil && server.isRunning {
            answered = ServiceProbe.run(spec, timeout: 1)
            if answered == nil { usleep(100_000) }
        }
        if answered == nil {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("redis-server on port \(port) never answered PING; it said:\n\(said.suffix(2000))")
            return
        }

        var window = LatencyWindow()
        var clock = 0.0
        func probe() { window.add(latency: ServiceProbe.run(spec, timeout: 0.3), at: clock); clock += 0.5 }
        for _ in 0..<6 { probe() }
        #expect(ServiceHealth.judge(window, thresholdMilliseconds: 200).state == .healthy)
        kill(server.processIdentifier, SIGSTOP)
        for _ in 0..<3 { probe() }
        #expect(ServiceHealth.judge(window, thresholdMilliseconds: 200).state == .failing)
        kill(server.processIdentifier, SIGCONT)
        probe()
        #expect(ServiceHealth.judge(window, thresholdMilliseconds: 200).state == .healthy)
        // A port nobody listens on fails at once.
        #expect(ServiceProbe.run(ProbeSpec(kind: .tcp, address: "127.0.0.1", port: 1), timeout: 0.5) == nil)
    }
}
