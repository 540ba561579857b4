import Foundation
import Replication

/// The pool as one agent saw it in its last round, with what it counted over time: what its
/// metrics and status page show.
public struct PoolView: Sendable {
    /// The agent's host.
    public var host = ""
    public var leading = false
    public var hosts: [HostRecord] = []
    public var state = PoolStore.VMState()
    public var drained: Set<String> = []
    /// The hosts the health policy suspects, with why (``HealthPolicy``).
    public var suspects: [String: String] = [:]
    /// When the view was taken (seconds since 1970).
    public var updated = 0.0
    /// Failovers and switchovers seen (each generation step of each VM after the first).
    public var generationSteps: [String: Int] = [:]
    /// Each VM's primary p99 probe latency (ms), oldest first, for the sparklines (at most 120).
    public var p99History: [String: [Double]] = [:]
    /// The VMs' nodes on this agent's host, as their status files say (by VM).
    public var local: [String: LocalNode] = [:]
    private var lastGeneration: [String: UInt64] = [:]
    private var lastSample: [String: Double] = [:]

    public init() {}

    mutating func update(host: String, leading: Bool, hosts: [HostRecord], state: PoolStore.VMState, drained: Set<String>,
                         suspects: [String: String] = [:]) {
        let now = Date().timeIntervalSince1970
        self.host = host
        self.leading = leading
        self.hosts = hosts
        self.state = state
        self.drained = drained
        self.suspects = suspects
        updated = now
        for (vm, generation) in state.generations {
            if let last = lastGeneration[vm], generation.generation > last { generationSteps[vm, default: 0] += Int(generation.generation - last) }
            lastGeneration[vm] = generation.generation
        }
        for (vm, nodes) in state.nodes {
            guard let p99 = nodes.compactMap(\.health).first?.p99, now - (lastSample[vm] ?? 0) >= 1 else { continue }
            lastSample[vm] = now
            p99History[vm, default: []].append(p99)
            if p99History[vm]!.count > 120 { p99History[vm]!.removeFirst() }
        }
    }
}
