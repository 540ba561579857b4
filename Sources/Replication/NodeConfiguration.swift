import Machine
import LockstepSupport

/// Everything a node needs to know besides the guest (docs/replication.md).
public struct NodeConfiguration: Sendable {
    /// The VM's name: the arbiter's key, and what both nodes must agree on.
    public var vm: String
    /// This node's name (in logs, and as the arbiter's owner).
    public var nodeID: String
    /// The shared secret of the VM's nodes.
    public var key: [UInt8]
    /// Where this node listens for a backup when it is the primary (one address per line).
    public var listen: [Endpoint]
    /// The other node's line addresses (where this node connects when it is the backup).
    public var peers: [Endpoint]
    /// The console port this node opens while it is the live primary.
    public var console: Endpoint
    public var heartbeat: HeartbeatSettings
    /// Instructions per slice of execution between looks at the network and the console.
    public var slice: UInt64 = 2_000_000
    /// The primary pauses while the backup lags by more than this many unacknowledged entries...
    public var maximumUnacknowledgedEntries: UInt64 = 50_000
    /// ... or by more than this many instructions of execution (bounds the backlog the backup
    /// must execute before it can go live, hence the failover pause).
    public var maximumBackupLag: UInt64 = 100_000_000
    /// ... except while a new backup loads its initial state: then the guest runs up to this many
    /// instructions past the state's count (about 5 s of a busy guest) before it waits. The
    /// backup has every input meanwhile (outputs still wait for it to hold them), so nothing is
    /// at risk; what grows is the log it executes before it is in step.
    public var maximumJoinLag: UInt64 = 1_000_000_000
    /// If set, a line per output release ("MONOTONIC_NS GENERATION NODE BYTES") is appended
    /// here: tests check from it that two primaries never released output at once.
    public var releaseLogPath: String?
    /// Bytes per second a disk copy to a joining backup sends at most (`--sync-rate`).
    public var diskSyncRate: Double = 200 * 1_048_576
    /// When a guest's disk flush completes (`--disk-sync`): on the primary's disk only, or on
    /// both nodes' (the primary's guest waits, executing nothing, until its backup has
    /// executed the flush too).
    public var diskSync: DiskSyncMode = .primary
    /// `--resync full`: a joining backup asks for its whole disk.
    public var resyncFull = false
    /// Seconds between two statistics lines of a primary with a backup (log entries, bytes, MIPS).
    public var statisticsInterval: Double = 10
    /// `--backup-priority low` (the default): the backup's replay runs at nice 19 while it keeps
    /// up (``BackupPriority``); false: at normal priority always.
    public var backupLowersPriority = true
    /// `--status-file`: where the node keeps its ``NodeRuntimeStatus`` (nil: nowhere).
    public var statusFilePath: String?
    /// The guest's MAC address this node was started with (`--mac`): a backup refuses a primary
    /// whose guest has another (nil: it takes the primary's, whatever it is).
    public var mac: [UInt8]?
    /// `--engine`: what runs a machine this node builds from its primary's state as a backup (a
    /// machine it boots itself gets it from the command). A choice of this host only: a backup
    /// on one engine follows a primary on the other. Default: ``Machine/initialEngine``.
    public var engine: ExecutionEngine = Machine.initialEngine

    public init(vm: String, nodeID: String, key: [UInt8], listen: [Endpoint], peers: [Endpoint], console: Endpoint,
                heartbeat: HeartbeatSettings = HeartbeatSettings()) {
        self.vm = vm
        self.nodeID = nodeID
        self.key = key
        self.listen = listen
        self.peers = peers
        self.console = console
        self.heartbeat = heartbeat
    }
}

extension Endpoint {
    /// The address as the links take it.
    var pair: (host: String, port: Int) { (host, Int(port)) }
}
