import Replication

/// A VM's node on the agent's own host, for the metrics: what its status file says now, and
/// what its supervisor counted over the node processes it started.
public struct LocalNode: Sendable, Equatable {
    /// The node's last status (nil: it has written none yet).
    public var runtime: NodeRuntimeStatus?
    /// Go-lives by failover of this VM's nodes on this host.
    public var failovers: Int
    /// The last failover's pause (from the last word of the old primary to winning the arbiter)
    /// and the last switchover's (a primary here: from the guest's last instruction to the handover), seconds.
    public var failoverPause: Double?
    public var switchoverPause: Double?

    public init(runtime: NodeRuntimeStatus?, failovers: Int = 0, failoverPause: Double? = nil, switchoverPause: Double? = nil) {
        self.runtime = runtime
        self.failovers = failovers
        self.failoverPause = failoverPause
        self.switchoverPause = switchoverPause
    }

    init(_ supervisor: NodeSupervisor) {
        self.init(runtime: supervisor.isRunning ? supervisor.runtime : nil, failovers: supervisor.failovers,
                  failoverPause: supervisor.lastFailoverPause, switchoverPause: supervisor.lastSwitchoverPause)
    }
}
