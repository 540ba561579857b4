import Foundation
import KVWorkload
import LockstepSupport

/// A gray failure in a pool (issue 16, item 5): the node of a VM's primary is put in a cgroup
/// with a small CPU quota (``CgroupFault``), alive but slow, and the pool's health policy is to
/// switch it over to its backup. Measures the time from the slow-down to the leader's decision
/// (its log line) and to the new primary answering on its console. Used by `PoolHealthTests` and
/// `lockstep-soak pool-health` (benchmarks/pool-health.sh).
public struct PoolGrayFailure {
    /// What one run saw.
    public struct Result: Sendable {
        public var from: String
        public var to: String
        /// Seconds from the slow-down to the leader's decision.
        public var decision: Double
        /// Seconds from the slow-down to the first answer of the new primary.
        public var serving: Double
        /// The leader's log line with the decision and its reason.
        public var line: String
        /// The VM's row in `lockstep vm list` before the slow-down (its probes' p50 and p99).
        public var before: String
    }

    /// The probe threshold the scenario's VMs are created with (`--probe-threshold`): above the
    /// console's round trip in a debug build under the tests' write load (p50 9 ms, p99 43 ms),
    /// below a primary at 2 % of a CPU (p99 250-700 ms; at 5 %, an idle guest still answers in time).
    public static let thresholdMilliseconds = 100

    public let pool: PoolCluster
    public let vm: String
    public let basePort: Int
    /// The share of one CPU the slowed primary gets.
    public var percent = 2
    /// The nodes' heartbeat timeout a pool for this scenario gets (`PoolCluster.Options`): with
    /// the default 400 ms, a backup under a loaded machine declared a primary at 2 % of a CPU lost
    /// and went live by itself (a failover, not the policy's switchover).
    public static let heartbeatTimeoutMilliseconds = 1000
    /// Seconds to wait for the decision.
    public var timeout = 90.0

    public init(pool: PoolCluster, vm: String, basePort: Int) {
        self.pool = pool
        self.vm = vm
        self.basePort = basePort
    }

    /// Waits until the VM is protected and its primary's probes say healthy, slows the primary
    /// down until the leader decides to switch it over, and waits for the new primary to answer.
    public func run() throws -> Result {
        try pool.waitUntilProtected(vm, seconds: 120)
        let before = try waitUntilHealthy(seconds: 120)
        let (primary, backup) = try pool.roles(vm)
        guard let from = primary, let to = backup else { throw FaultInjectionError.setup("VM \(vm) has no primary and backup: \(try pool.statusRow(vm))") }
        let pids = pool.nodeProcesses(of: from, vm: vm)
        guard !pids.isEmpty else { throw FaultInjectionError.setup("no node of VM \(vm) runs on \(from)") }
        let offsets = pool.agents.map { $0.log.count }
        let decided = "VM '\(vm)': health: switching over from \(from)"
        let started = monotonicSeconds()
        let throttle = try CgroupFault(pids: pids, kind: .cpu(percent: percent))
        let teardown = SignalTeardown.shared.register { throttle.release() }
        defer { throttle.release(); teardown.cancel() }
        var line: String?
        while line == nil {
            guard monotonicSeconds() - started < timeout else {
                throw FaultInjectionError.timeout("the health policy did not switch \(vm) over within \(timeout) s of its primary on \(from) being slowed to \(percent) % of a CPU; status: \(try pool.statusRow(vm))\n\(pool.logs)")
            }
            for (agent, offset) in zip(pool.agents, offsets) {
                if let found = agent.log.dropFirst(offset).split(separator: "\n").first(where: { $0.contains(decided) }) { line = String(found) }
            }
            if line == nil { usleep(20_000) }
        }
        let decision = monotonicSeconds() - started
        let console = Endpoint(host: PoolCluster.address(pool.hostNames.firstIndex(of: to)!), port: UInt16(basePort + 2))
        let options = KVClient.Options(requestTimeout: 0.5, connectTimeout: 0.5, deadline: 0.5, retryPause: 0.05)
        while monotonicSeconds() - started < timeout + 60 {
            if let client = try? KVClient(endpoints: [console], name: "gray", options: options) {
                defer { client.close() }
                if (try? client.connect()) != nil {
                    return Result(from: from, to: to, decision: decision, serving: monotonicSeconds() - started, line: line ?? "", before: before)
                }
            }
            usleep(20_000)
        }
        throw FaultInjectionError.timeout("VM \(vm)'s new primary on \(to) did not answer on its console within \(timeout + 60) s\n\(pool.logs)")
    }

    /// Waits until `lockstep vm list` shows the VM's probes healthy; returns that row.
    @discardableResult
    public func waitUntilHealthy(seconds: Double) throws -> String {
        let deadline = monotonicSeconds() + seconds
        var row = ""
        while monotonicSeconds() < deadline {
            row = (try? pool.statusRow(vm)) ?? ""
            if row.contains(" healthy ") { return row }
            usleep(200_000)
        }
        throw FaultInjectionError.timeout("VM \(vm)'s probes did not say healthy within \(seconds) s: \(row)\n\(pool.logs)")
    }
}
