@testable import Pool
@testable import PoolHTTP
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
        var view = PoolView()
        view.update(host: "h1", leading: true, hosts: [HostRecord(name: "h1", address: "10.0.0.1", memoryMiB: 1024),
                                                       HostRecord(name: "h2", address: "10.0.0.2", memoryMiB: 1024),
                                                       HostRecord(name: "h3", address: "10.0.0.3", memoryMiB: 256)],
                    state: state, drained: ["h3"])
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
        #expect(text.contains("# TYPE lockstep_vm_protected gauge"))
    }

    @Test func theStatusPageShowsPlacementProtectionAndWhy() {
        let html = StatusPage.render(Self.view())
        #expect(html.contains(#"<td class="protected">protected</td>"#))
        #expect(html.contains(#"<td class="not-protected">not protected</td>"#))
        #expect(html.contains("the VM runs unprotected"))
        #expect(html.contains("h3 (drained)"))
        #expect(html.contains("healthy p50=1.5ms p99=4.2ms") || html.contains("healthy p50=1.5ms p99=4.3ms"))
    }

    @Test func sparklinesScaleToTheirMaximum() {
        #expect(StatusPage.sparkline([]) == "-")
        let line = StatusPage.sparkline([1, 2, 4])
        #expect(line.contains("points=\"0.0,17.5 60.0,12.0 120.0,1.0\""), "\(line)")
        #expect(line.hasSuffix("max 4.0 ms"))
    }
}
