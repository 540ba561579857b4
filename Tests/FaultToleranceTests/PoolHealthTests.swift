import FaultInjection
import Foundation
import Testing

/// The pool's health policy on real processes: three agents on a three-member etcd run the
/// key-value VM probed on its console (`--probe console`). A gray failure: its primary's node is
/// put in a cgroup with 2 % of a CPU (slow, alive: its backup, with a 1 s heartbeat timeout, does not declare it lost), and the
/// policy switches it over to its backup, with the reason in `lockstep vm show`, and every
/// acknowledged write is read back. Then a VM that runs alone (a one-host pool) is frozen (the
/// cgroup freezer): the policy says it would switch over but has no backup in step, and does
/// nothing; thawed, the VM answers again as before.
@Suite(.serialized, .enabled(if: EtcdCluster.executable != nil, "needs etcd (apt-get install etcd-server)"))
struct PoolHealthTests {
    @Test(.enabled(if: getuid() == 0, "needs root (a cgroup slows the primary down)"))
    func aSlowPrimaryIsSwitchedOverByTheHealthPolicy() throws {
        let directory = temporaryDirectory("pool-health")
        var options = PoolCluster.Options(lockstep: lockstepExecutable())
        options.heartbeatTimeoutMilliseconds = PoolGrayFailure.heartbeatTimeoutMilliseconds
        let pool = try PoolCluster(options: options, directory: directory)
        defer { pool.stop(); removeTemporaryDirectory(directory) }
        try pool.start()
        let base = try PoolFailoverTests.basePort()
        try pool.lockstep(["vm", "create", "kv", "--memory", "128", "--base-port", "\(base)", "--probe", "console", "--probe-threshold", "\(PoolGrayFailure.thresholdMilliseconds)"])
        try pool.waitUntilProtected("kv", seconds: 180)
        let writer = try BackgroundWriter(endpoints: pool.consoleEndpoints(basePort: base))
        writer.start()
        defer { writer.stop() }
        try writer.waitForProgress(20, seconds: 60)

        let result = try PoolGrayFailure(pool: pool, vm: "kv", basePort: base).run()
        try pool.waitUntilProtected("kv", seconds: 120)
        let row = try pool.statusRow("kv")
        #expect(try pool.roles("kv").primary == result.to, "\(row)")
        let shown = try pool.lockstep(["vm", "show", "kv"])
        #expect(shown.contains("health policy at ") && shown.contains("switched over from \(result.from) to \(result.to): "), "\(shown)")
        #expect(shown.contains("; backup on \(result.to) in step"), "\(shown)")
        try writer.waitForProgress(20, seconds: 60)
        writer.stop()
        let report = try writer.verify()
        #expect(report.lost.isEmpty, "lost across the health switchover: \(report.lost)\n\(pool.logs)")
        print("pool health: primary on \(result.from) slowed to 2 % of a CPU: switched over after \(String(format: "%.2f", result.decision)) s, new primary on \(result.to) answering after \(String(format: "%.2f", result.serving)) s; \(report.acknowledgedWrites) writes acknowledged, none lost")
        print("pool health: before: \(result.before)")
        print("pool health: \(result.line)")
    }

    @Test(.enabled(if: getuid() == 0, "needs root (the cgroup freezer freezes the primary)"))
    func aFrozenPrimaryWithoutABackupIsLeftAloneWithTheReasonShown() throws {
        let directory = temporaryDirectory("pool-health-alone")
        var options = PoolCluster.Options(lockstep: lockstepExecutable())
        options.hosts = 1
        let pool = try PoolCluster(options: options, directory: directory)
        defer { pool.stop(); removeTemporaryDirectory(directory) }
        try pool.start()
        let base = try PoolFailoverTests.basePort()
        try pool.lockstep(["vm", "create", "kv", "--memory", "128", "--base-port", "\(base)", "--probe", "console"])
        try PoolGrayFailure(pool: pool, vm: "kv", basePort: base).waitUntilHealthy(seconds: 180)
        let before = try pool.lockstep(["vm", "show", "kv"]).split(separator: "\n").first   // state and generation
        let node = try #require(pool.nodeProcesses(of: "h1", vm: "kv").first)
        let freeze = try CgroupFault(pids: [node], kind: .frozen)
        defer { freeze.release() }
        var shown = ""
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline && !shown.contains("but no backup in step") {
            usleep(200_000)
            shown = try pool.lockstep(["vm", "show", "kv"])
        }
        freeze.release()
        #expect(shown.contains("health policy at ") && shown.contains("would switch over (failing for "), "\(shown)\n\(pool.logs)")
        #expect(shown.contains("but no backup in step"), "\(shown)")
        #expect(pool.nodeProcesses(of: "h1", vm: "kv") == [node], "the frozen primary's node was replaced")
        try PoolGrayFailure(pool: pool, vm: "kv", basePort: base).waitUntilHealthy(seconds: 60)
        let after = try pool.lockstep(["vm", "show", "kv"]).split(separator: "\n").first
        #expect(after == before, "the VM changed: before \(before ?? ""), after \(after ?? "")")
        print("pool health: \(shown.split(separator: "\n").first { $0.contains("would switch over") } ?? "")")
    }
}
