import Pool
import Prometheus

/// The pool as Prometheus metrics (`/metrics` on every agent), rendered from a ``PoolView``.
public enum PoolMetrics {
    public static func render(_ view: PoolView) -> String {
        let registry = PrometheusCollectorRegistry()
        registry.makeGauge(name: "lockstep_agent_leading", labels: [("host", view.host)],
                           help: "1 while this agent places the pool's VMs").set(to: view.leading ? 1 : 0)
        for host in view.hosts {
            registry.makeGauge(name: "lockstep_host_alive", labels: [("host", host.name)], help: "Hosts registered in etcd (their lease is renewed)").set(to: 1)
            registry.makeGauge(name: "lockstep_host_memory_mib", labels: [("host", host.name)], help: "Memory a host offers to guests").set(to: Double(host.memoryMiB))
            registry.makeGauge(name: "lockstep_host_drained", labels: [("host", host.name)], help: "1 while a host is drained").set(to: view.drained.contains(host.name) ? 1 : 0)
            registry.makeGauge(name: "lockstep_host_suspect", labels: [("host", host.name)],
                               help: "1 while the health policy suspects a host (its VMs fail while their peers answer)").set(to: view.suspects[host.name] == nil ? 0 : 1)
        }
        for spec in view.state.specs {
            let nodes = view.state.nodes[spec.name] ?? []
            let protection = PoolStatusTable.protection(nodes)
            registry.makeGauge(name: "lockstep_vm_protected", labels: [("vm", spec.name)],
                               help: "1 while a VM has a primary and a backup in step").set(to: protection == "protected" ? 1 : 0)
            registry.makeGauge(name: "lockstep_vm_reprotecting", labels: [("vm", spec.name)],
                               help: "1 while a VM's new backup is being copied").set(to: protection == "re-protecting" ? 1 : 0)
            registry.makeGauge(name: "lockstep_vm_generation", labels: [("vm", spec.name)],
                               help: "The VM's arbiter generation (one step per failover or switchover)")
                .set(to: Double(view.state.generations[spec.name]?.generation ?? 0))
            registry.makeCounter(name: "lockstep_vm_generation_steps_total", labels: [("vm", spec.name)],
                                 help: "Failovers and switchovers this agent has seen").increment(by: Int64(view.generationSteps[spec.name] ?? 0))
            if let switchover = view.state.healthActions[spec.name]?.switchover {
                registry.makeGauge(name: "lockstep_health_switchover_timestamp_seconds", labels: [("vm", spec.name)],
                                   help: "When the health policy last switched the VM over (seconds since 1970)").set(to: switchover.time)
            }
            if let held = view.state.healthActions[spec.name]?.held {
                registry.makeGauge(name: "lockstep_health_held_timestamp_seconds", labels: [("vm", spec.name)],
                                   help: "When the health policy last would have switched the VM over and did not (no backup in step, policy off)").set(to: held.time)
            }
            for node in nodes {
                registry.makeGauge(name: "lockstep_node_role", labels: [("vm", spec.name), ("host", node.host), ("role", node.role.rawValue)],
                                   help: "A VM's node on a host, by role").set(to: 1)
                guard let health = node.health else { continue }
                for (quantile, value) in [("0.5", health.p50), ("0.99", health.p99), ("0.999", health.p999)] {
                    guard let value else { continue }
                    registry.makeGauge(name: "lockstep_probe_latency_seconds", labels: [("vm", spec.name), ("quantile", quantile)],
                                       help: "The service's probe latency over the last 30 s, from the primary's host").set(to: value / 1000)
                }
                registry.makeGauge(name: "lockstep_probe_failures", labels: [("vm", spec.name)],
                                   help: "Failed probes in the last 30 s").set(to: Double(health.failures))
                registry.makeGauge(name: "lockstep_vm_health", labels: [("vm", spec.name), ("state", health.state.rawValue)],
                                   help: "The service's health by latency percentiles").set(to: 1)
            }
        }
        renderLocalNodes(view, into: registry)
        return registry.emitToString()
    }

    /// The replication figures of the nodes on this agent's host, from their status files.
    static func renderLocalNodes(_ view: PoolView, into registry: PrometheusCollectorRegistry) {
        for (vm, node) in view.local.sorted(by: { $0.key < $1.key }) {
            let labels = [("vm", vm), ("host", view.host)]
            registry.makeCounter(name: "lockstep_failovers_total", labels: labels,
                                 help: "Times a backup of the VM on this host went live because its primary was lost").increment(by: Int64(node.failovers))
            for (kind, pause) in [("failover", node.failoverPause), ("switchover", node.switchoverPause)] {
                guard let pause else { continue }
                registry.makeGauge(name: "lockstep_pause_seconds", labels: labels + [("kind", kind)],
                                   help: "The last pause: failover, from the old primary's last word to the backup winning the arbiter; switchover, from the guest's last instruction to the handover")
                    .set(to: pause)
            }
            guard let status = node.runtime else { continue }
            if let lag = status.lagInstructions {
                registry.makeGauge(name: "lockstep_replication_lag_instructions", labels: labels,
                                   help: "Instructions the backup has not executed yet (on the primary's host)").set(to: Double(lag))
            }
            if let lag = status.lagSeconds {
                registry.makeGauge(name: "lockstep_replication_lag_seconds", labels: labels,
                                   help: "How long ago the oldest log entry the backup has not acknowledged was sent (0: all acknowledged)").set(to: lag)
            }
            for line in status.lines {
                let lineLabels = labels + [("line", "\(line.line)")]
                registry.makeCounter(name: "lockstep_log_bytes_total", labels: lineLabels,
                                     help: "Bytes the primary sent to its backup on a line (every frame) since its node started")
                    .increment(by: Int64(clamping: line.bytes))
                registry.makeCounter(name: "lockstep_log_entries_total", labels: lineLabels,
                                     help: "Log entries the primary sent to its backup on a line since its node started")
                    .increment(by: Int64(clamping: line.entries))
            }
            if status.live {
                registry.makeGauge(name: "lockstep_outputs_held", labels: labels,
                                   help: "Outputs the primary's gate holds until the backup acknowledges their inputs").set(to: Double(status.outputsHeld))
                registry.makeGauge(name: "lockstep_outputs_held_oldest_seconds", labels: labels,
                                   help: "How long the oldest output held has waited (0: none held)").set(to: status.oldestOutputSeconds ?? 0)
            }
            if let progress = status.copy?.progress {
                registry.makeGauge(name: "lockstep_reprotection_progress_ratio", labels: labels + [("side", status.copy!.side.rawValue)],
                                   help: "A live copy to (sending) or from (receiving) a new backup: the share copied").set(to: progress)
            }
        }
    }
}
