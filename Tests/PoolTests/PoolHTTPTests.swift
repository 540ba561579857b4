import FaultInjection
@testable import Pool
@testable import PoolHTTP
import Replication
import Testing

/// The agents' metrics and status page, rendered from a pool view.
@Suite struct PoolHTTPTests {
    static func view() -> PoolView {
        var state = PoolStore.VMState()
        state.specs = [VMSpec(name: "kv", memoryMiB: 128, append: "x", basePort: 7100), VMSpec(name: "web", memoryMiB: 256, append: "x", basePort: 7110)]
        state.placements = ["kv": Placement(hosts: ["h1", "h2"]), "web": Placement(hosts: ["h3"], waiting: "no host besides h3 has 256 MiB free: the VM runs unprotected")]
        state.nodes = [
            "kv": [NodeStatus(host: "h1", role: .primary, detail: "", updated: 0,
                              health: ServiceHealth(state: .healthy, p50: 1.5, p99: 4.25, p999: 9, probes: 60, failures: 0)),
                   NodeStatus(host: "h2", role: .backup, detail: "", updated: 0)],
            "web": [NodeStatus(host: "h3", role: .primaryAlone, detail: "", updated: 0)],
        ]
        state.generations = ["kv": (3, "h1"), "web": (1, "h3")]
        state.healthActions = ["kv": HealthActions(switchover: .init(time: 1_765_000_000, text: "switched over from h2 to h1: failing for 2.1 s"),
                                                   held: .init(time: 1_764_999_000, text: "would switch over but no backup in step"))]
        var view = PoolView()
        view.update(host: "h1", leading: true, hosts: [HostRecord(name: "h1", address: "10.0.0.1", memoryMiB: 1024),
                                                       HostRecord(name: "h2", address: "10.0.0.2", memoryMiB: 1024),
                                                       HostRecord(name: "h3", address: "10.0.0.3", memoryMiB: 256)],
                    state: state, drained: ["h3"], suspects: ["h2": "2 of its VMs fail while their peers answer"])
        return view
    }

    @Test func metricsSayWhatIsProtectedAndHowFastTheServiceAnswers() {
        let text = PoolMetrics.render(Self.view())
        #expect(text.contains(#"lockstep_vm_protected{vm="kv"} 1"#), "\(text)")
        #expect(text.contains(#"lockstep_vm_protected{vm="web"} 0"#))
        #expect(text.contains(#"lockstep_vm_generation{vm="kv"} 3"#))
        #expect(text.contains(#"lockstep_node_role{vm="kv",host="h2",role="backup"} 1"#))
        #expect(text.contains(#"lockstep_probe_latency_seconds{vm="kv",quantile="0.99"} 0.00425"#))
        #expect(text.contains(#"lockstep_host_drained{host="h3"} 1"#))
        #expect(text.contains(#"lockstep_host_suspect{host="h2"} 1"#))
        #expect(text.contains(#"lockstep_host_suspect{host="h1"} 0"#))
        #expect(text.contains("# TYPE lockstep_vm_protected gauge"))
        #expect(text.contains(#"lockstep_health_switchover_timestamp_seconds{vm="kv"} 1765000000"#), "\(text)")
        #expect(text.contains(#"lockstep_health_held_timestamp_seconds{vm="kv"} 1764999000"#))
        #expect(!text.contains(#"lockstep_health_switchover_timestamp_seconds{vm="web"}"#))
    }

    /// The view of h1, the primary's host of `kv` (with a backup in step) and of `web`, whose
    /// new backup is being copied.
    static func viewWithLocalNodes() -> PoolView {
        var view = view()
        var kv = NodeRuntimeStatus(vm: "kv", node: "h1", role: .primary, generation: 3, instructionCount: 9_000_000, updated: 0)
        kv.live = true
        kv.lagInstructions = 250_000
        kv.lagSeconds = 0.0125
        kv.lines = [PrimaryLink.LineTraffic(line: 1, entries: 700, bytes: 123_456), PrimaryLink.LineTraffic(line: 2, entries: 690, bytes: 120_000)]
        kv.outputsHeld = 3
        kv.oldestOutputSeconds = 0.004
        var web = NodeRuntimeStatus(vm: "web", node: "h1", role: .copying, generation: 1, instructionCount: 5, updated: 0)
        web.live = true
        web.copy = NodeRuntimeStatus.Copy(side: .sending, phase: .disk, bytesDone: 42, bytesTotal: 100)
        view.local = ["kv": LocalNode(runtime: kv, failovers: 2, failoverPause: 0.61, switchoverPause: 0.035),
                      "web": LocalNode(runtime: web)]
        return view
    }

    @Test func metricsGiveTheLocalNodesLagBytesPerLineOutputsHeldFailoversPausesAndCopyProgress() {
        let text = PoolMetrics.render(Self.viewWithLocalNodes())
        let metrics = MetricsText(text)
        let kv = ["vm": "kv", "host": "h1"]
        #expect(metrics.value("lockstep_replication_lag_instructions", kv) == 250_000, "\(text)")
        #expect(metrics.value("lockstep_replication_lag_seconds", kv) == 0.0125)
        #expect(metrics.value("lockstep_log_bytes_total", kv.merging(["line": "1"]) { $1 }) == 123_456)
        #expect(metrics.value("lockstep_log_bytes_total", kv.merging(["line": "2"]) { $1 }) == 120_000)
        #expect(metrics.value("lockstep_log_entries_total", kv.merging(["line": "2"]) { $1 }) == 690)
        #expect(metrics.value("lockstep_outputs_held", kv) == 3)
        #expect(metrics.value("lockstep_outputs_held_oldest_seconds", kv) == 0.004)
        #expect(metrics.value("lockstep_failovers_total", kv) == 2)
        #expect(metrics.value("lockstep_pause_seconds", kv.merging(["kind": "failover"]) { $1 }) == 0.61)
        #expect(metrics.value("lockstep_pause_seconds", kv.merging(["kind": "switchover"]) { $1 }) == 0.035)
        #expect(metrics.value("lockstep_reprotection_progress_ratio", ["vm": "web", "side": "sending"]) == 0.42)
        #expect(metrics.samples("lockstep_replication_lag_seconds", ["vm": "web"]).isEmpty, "no backup in step: no lag")
        #expect(metrics.samples("lockstep_reprotection_progress_ratio", ["vm": "kv"]).isEmpty)
        #expect(text.contains("# TYPE lockstep_log_bytes_total counter"))
        #expect(metrics.value("lockstep_probe_latency_seconds", ["vm": "kv", "quantile": "0.5"]) == 0.0015)
    }

    @Test func theProtectionStateCarriesTheCopysProgress() {
        var nodes = [NodeStatus(host: "h1", role: .primaryAlone, detail: "", updated: 0), NodeStatus(host: "h2", role: .starting, detail: "", updated: 0)]
        #expect(PoolStatusTable.state(nodes) == "re-protecting")
        nodes[0].copy = 0.42
        nodes[1].copy = 0.3
        #expect(PoolStatusTable.state(nodes) == "re-protecting 42%")
        var state = PoolStore.VMState()
        state.specs = [VMSpec(name: "web", memoryMiB: 256, append: "x", basePort: 7110)]
        state.nodes = ["web": nodes]
        #expect(PoolStatusTable.vm("web", in: state)?.contains("VM web: re-protecting 42%") == true)
        #expect(PoolStatusTable.vms(state).contains("re-protecting 42%"))
        var view = Self.view()
        view.state.nodes["kv"] = nodes
        #expect(StatusPage.render(view).contains(#"<td class="re-protecting">re-protecting 42%</td>"#))
    }

    @Test func theNodesOwnRoleMapsToThePools() {
        func role(_ role: NodeRuntimeStatus.Role, live: Bool = false) -> NodeStatus.Role {
            var status = NodeRuntimeStatus(vm: "kv", node: "h1", role: role, updated: 0)
            status.live = live
            return NodeSupervisor.role(of: status)
        }
        #expect(role(.joining) == .starting)
        #expect(role(.copying) == .starting, "a backup receiving its copy is not in step yet")
        #expect(role(.copying, live: true) == .primaryAlone, "a primary sending a copy runs unprotected")
        #expect(role(.backup) == .backup && role(.primary, live: true) == .primary && role(.primaryAlone, live: true) == .primaryAlone)
        #expect(role(.finished) == .stopped)
    }

    @Test func etcdHearsOfRoleChangesAtOnceAndOfProgressAtMostEveryTwoSeconds() {
        let last = NodeStatus(host: "h1", role: .primaryAlone, detail: "live copy: memory round 1", updated: 100)
        var next = last
        next.updated = 101
        #expect(!Agent.mustReport(next, last: last, now: 101))
        next.copy = 0.1
        #expect(Agent.mustReport(next, last: last, now: 101), "a copy began")
        var progressed = next
        progressed.copy = 0.2
        progressed.detail = "live copy: memory round 2"
        #expect(!Agent.mustReport(progressed, last: next, now: 101.5))
        #expect(Agent.mustReport(progressed, last: next, now: 103))
        var promoted = progressed
        promoted.role = .primary
        #expect(Agent.mustReport(promoted, last: progressed, now: 101.1))
        #expect(Agent.mustReport(next, last: nil, now: 0))
    }

    @Test func theStatusPageShowsPlacementProtectionAndWhy() throws {
        let html = StatusPage.render(Self.view())
        #expect(html.contains(#"<td class="protected">protected</td>"#))
        #expect(html.contains(#"<td class="not-protected">not protected</td>"#))
        #expect(html.contains("the VM runs unprotected"))
        #expect(html.contains("h3 (drained)"))
        #expect(html.contains(#"<td class="suspect">suspect: 2 of its VMs fail while their peers answer</td>"#))
        // The health policy's actions, newest first.
        let policy = try #require(html.components(separatedBy: "<td class=\"health-policy\">").dropFirst().first)
        let switched = try #require(policy.range(of: "switched over from h2 to h1: failing for 2.1 s"))
        let held = try #require(policy.range(of: "would switch over but no backup in step"))
        #expect(switched.lowerBound < held.lowerBound)
        #expect(html.contains("healthy p50=1.5ms p99=4.2ms") || html.contains("healthy p50=1.5ms p99=4.3ms"))
    }

    @Test func sparklinesScaleToTheirMaximum() {
        #expect(StatusPage.sparkline([]) == "-")
        let line = StatusPage.sparkline([1, 2, 4])
        #expect(line.contains("points=\"0.0,17.5 60.0,12.0 120.0,1.0\""), "\(line)")
        #expect(line.hasSuffix("max 4.0 ms"))
    }
}
