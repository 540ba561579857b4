import FaultInjection
import Foundation
import Testing

/// A pool of three hosts (`lockstep agent` on 127.0.1.1-3) on a three-member etcd runs the
/// key-value VM declared with `lockstep vm create`, under a continuous write load. A planned
/// switchover (`lockstep vm switchover`) moves its primary to the backup's host; the primary's
/// host is drained and undrained, and the backup moved back onto it. The host of its
/// primary dies (its node and agent SIGKILLed): the backup goes live and the pool re-protects the
/// VM on the third host by itself. Then the host of the new backup dies, and the pool re-protects
/// it on the host that came back. Every acknowledged write is read back; `lockstep vm delete`
/// stops the nodes.
@Suite(.serialized, .enabled(if: EtcdCluster.executable != nil, "needs etcd (apt-get install etcd-server)"))
struct PoolFailoverTests {
    /// Three consecutive free loopback ports (the VM's lines and console).
    static func basePort() throws -> Int { try PoolCluster.freeBasePort() }

    @Test func theLossOfAHostIsRepairedByThePool() throws {
        let directory = temporaryDirectory("pool")
        let pool = try PoolCluster(options: PoolCluster.Options(lockstep: lockstepExecutable()), directory: directory)
        defer { pool.stop(); removeTemporaryDirectory(directory) }
        try pool.start()
        let base = try Self.basePort()
        try pool.lockstep(["vm", "create", "kv", "--memory", "128", "--base-port", "\(base)"])
        try pool.waitUntilProtected("kv", seconds: 180)

        // Every agent serves metrics and the status page; headless Chromium renders the page.
        // (Each agent's view is as of its last round: a moment behind etcd.)
        for host in pool.hostNames {
            var metrics = ""
            let deadline = Date(timeIntervalSinceNow: 15)
            while Date() < deadline {
                metrics = try pool.agentPage(host, "/metrics")
                if metrics.contains(#"lockstep_vm_protected{vm="kv"} 1"#) { break }
                usleep(200_000)
            }
            #expect(metrics.contains(#"lockstep_vm_protected{vm="kv"} 1"#), "\(host): \(metrics)")
            #expect(metrics.contains(#"lockstep_host_alive{host="h3"} 1"#))
        }
        if let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            // Up to three renderings: a loaded run once got an empty DOM from a chromium that
            // exited cleanly.
            var dom = ""
            for _ in 0..<3 where !dom.contains("data-vm=\"kv\"") {
                dom = try Chromium.dumpDOM(chromium, url: "http://\(PoolCluster.address(0)):\(pool.httpPort)/")
            }
            #expect(dom.contains("data-vm=\"kv\"") && dom.contains(#"<td class="protected">protected</td>"#), "\(dom)")
        } else {
            Issue.record("chromium is not installed (scripts/install-deps.sh installs it): the status page was not rendered")
        }

        let writer = try BackgroundWriter(endpoints: pool.consoleEndpoints(basePort: base))
        writer.start()
        defer { writer.stop() }
        try writer.waitForProgress(20, seconds: 60)

        // The primary's agent exports what its node's status file says: the replication lag and
        // the bytes on each line, which grow while the client writes.
        let primaryHost = try #require(try pool.roles("kv").primary)
        let labels = ["vm": "kv", "host": primaryHost]
        let scraped = MetricsText(try pool.agentPage(primaryHost, "/metrics"))
        #expect(scraped.value("lockstep_replication_lag_instructions", labels) != nil, "\(scraped.samples.filter { $0.name.hasPrefix("lockstep_") })")
        #expect(scraped.value("lockstep_replication_lag_seconds", labels) != nil)
        #expect(scraped.value("lockstep_outputs_held", labels) != nil)
        let bytesBefore = scraped.samples("lockstep_log_bytes_total", labels).map(\.value).reduce(0, +)
        #expect(scraped.samples("lockstep_log_bytes_total", labels).count == 2, "one series per line")
        #expect(bytesBefore > 0)
        let status = try String(contentsOf: directory.appendingPathComponent("\(primaryHost)/kv.status.json"), encoding: .utf8)
        #expect(status.contains(#""role":"primary""#), "\(status)")
        print("pool: \(primaryHost)/kv.status.json: \(status)")
        print("pool: " + scraped.samples.filter { ["lockstep_log_bytes_total", "lockstep_replication_lag_seconds", "lockstep_outputs_held_oldest_seconds"].contains($0.name) }
            .map { "\($0.name){\($0.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))} \($0.value)" }.joined(separator: "; "))
        try writer.waitForProgress(20, seconds: 60)
        var bytesAfter = bytesBefore
        let scrapeDeadline = Date(timeIntervalSinceNow: 15)
        while bytesAfter <= bytesBefore && Date() < scrapeDeadline {
            usleep(300_000)   // the agent's view is as of its last round
            bytesAfter = MetricsText(try pool.agentPage(primaryHost, "/metrics")).samples("lockstep_log_bytes_total", labels).map(\.value).reduce(0, +)
        }
        #expect(bytesAfter > bytesBefore, "the log's bytes did not grow while the client wrote")
        print("pool: the primary's lines carried \(Int(bytesAfter - bytesBefore)) bytes between two scrapes; lag \(Int(scraped.value("lockstep_replication_lag_instructions", labels) ?? -1)) instructions, \(scraped.value("lockstep_replication_lag_seconds", labels) ?? -1) s; \(Int(scraped.value("lockstep_outputs_held", labels) ?? -1)) outputs held")

        // A planned switchover: the backup becomes the primary, the old primary its backup.
        let (before, beforeBackup) = try pool.roles("kv")
        let switched = try pool.lockstep(["vm", "switchover", "kv"])
        #expect(switched.contains("switched over from \(before ?? "?") to \(beforeBackup ?? "?")"), "\(switched)")
        try pool.waitUntilProtected("kv", seconds: 120)
        #expect(try pool.roles("kv").primary == beforeBackup)
        try writer.waitForProgress(20, seconds: 60)
        print("pool: \(switched.trimmingCharacters(in: .whitespacesAndNewlines))")
        // The old primary's agent keeps its node's switchover pause (guest stopped to handover).
        let oldPrimary = try #require(before)
        let switchoverPause = try Self.metric(pool, oldPrimary, "lockstep_pause_seconds", ["vm": "kv", "kind": "switchover"])
        #expect(switchoverPause.map { $0 > 0 && $0 < 5 } ?? false, "switchover pause: \(switchoverPause.map { "\($0)" } ?? "none")")

        // Maintenance: drain the primary's host (the primary switches over, then the backup
        // leaves it for the third host), undrain it, and move the backup back onto it.
        let drainedHost = try #require(try pool.roles("kv").primary)
        let drained = try pool.lockstep(["host", "drain", drainedHost])
        #expect(drained.contains("host \(drainedHost) drained"), "\(drained)")
        try pool.waitUntilProtected("kv", on: Set(pool.hostNames).subtracting([drainedHost]), seconds: 120)
        try pool.lockstep(["host", "undrain", drainedHost])
        let moved = try pool.lockstep(["vm", "move", "kv", "--backup-to", drainedHost])
        #expect(moved.contains("backup moved to \(drainedHost)"), "\(moved)")
        try writer.waitForProgress(20, seconds: 60)
        writer.stop()
        var report = try writer.verify()
        #expect(report.lost.isEmpty, "lost during the planned operations: \(report.lost)\n\(pool.logs)")
        writer.start()
        print("pool: \(drained.split(separator: "\n").last ?? ""); \(moved.trimmingCharacters(in: .whitespacesAndNewlines))")

        // The primary's host dies.
        let (primary, backup) = try pool.roles("kv")
        let first = try #require(primary), second = try #require(backup)
        pool.killHost(first)
        let others = Set(pool.hostNames).subtracting([first])
        let repaired = try pool.waitUntilProtected("kv", on: others, seconds: 120)
        #expect(try pool.roles("kv").primary == second, "the backup did not go live: \(repaired.row)")
        // The survivor's agent counts its node's go-live by failover and keeps its pause.
        let failovers = try Self.metric(pool, second, "lockstep_failovers_total", ["vm": "kv"])
        let failoverPause = try Self.metric(pool, second, "lockstep_pause_seconds", ["vm": "kv", "kind": "failover"])
        #expect(failovers == 1, "failovers on \(second): \(failovers.map { "\($0)" } ?? "none")")
        #expect(failoverPause.map { $0 > 0 && $0 < 10 } ?? false, "failover pause: \(failoverPause.map { "\($0)" } ?? "none")")
        print("pool: switchover pause \(switchoverPause ?? -1) s, failover pause \(failoverPause ?? -1) s (from the metrics)")
        try writer.waitForProgress(20, seconds: 60)
        writer.stop()
        report = try writer.verify()
        #expect(report.lost.isEmpty, "lost after the primary's host died: \(report.lost)\n\(pool.logs)")
        writer.start()
        print("pool: primary host \(first) killed; protected again on \(others.sorted()) after \(String(format: "%.1f", repaired.seconds)) s; `vm list` showed \(repaired.progress.isEmpty ? "no copy progress (the copy fell between two looks)" : repaired.progress.joined(separator: ", "))")

        // The host comes back (empty of VMs); then the new backup's host dies.
        try pool.restartHost(first)
        let third = try #require(try pool.roles("kv").backup)
        pool.killHost(third)
        let again = try pool.waitUntilProtected("kv", on: Set(pool.hostNames).subtracting([third]), seconds: 120)
        #expect(try pool.roles("kv").primary == second, "the primary changed when its backup's host died: \(again.row)")
        try writer.waitForProgress(20, seconds: 60)
        writer.stop()
        report = try writer.verify()
        #expect(report.lost.isEmpty, "lost after the backup's host died: \(report.lost)\n\(pool.logs)")
        #expect(report.acknowledgedWrites > 60)
        print("pool: backup host \(third) killed; protected again after \(String(format: "%.1f", again.seconds)) s; \(report.acknowledgedWrites) writes acknowledged, none lost")

        // What an operator sees, then the VM goes.
        let shown = try pool.lockstep(["vm", "show", "kv"])
        #expect(shown.contains("VM kv: protected"), "\(shown)")
        try pool.lockstep(["vm", "delete", "kv"])
        let deadline = Date(timeIntervalSinceNow: 30)
        while Date() < deadline && !pool.hostNames.allSatisfy({ pool.nodeProcesses(of: $0).isEmpty }) { usleep(100_000) }
        #expect(pool.hostNames.allSatisfy { pool.nodeProcesses(of: $0).isEmpty }, "nodes still run after vm delete")
    }
}

extension PoolFailoverTests {
    /// The value of a series on `host`'s /metrics, once the agent's view has it (at most 15 s).
    static func metric(_ pool: PoolCluster, _ host: String, _ name: String, _ labels: [String: String]) throws -> Double? {
        let deadline = Date(timeIntervalSinceNow: 15)
        while true {
            if let value = MetricsText(try pool.agentPage(host, "/metrics")).value(name, labels) { return value }
            if Date() >= deadline { return nil }
            usleep(200_000)
        }
    }
}

/// Headless Chromium (Debian's `chromium`): the DOM of a page after it rendered.
enum Chromium {
    static func dumpDOM(_ executable: String, url: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(profile.path)",
                             "--virtual-time-budget=2000", "--dump-dom", url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("chromium --dump-dom \(url) ended with status \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
