@_spi(Simulation) import Replication

/// Performs a channel core's actions on the simulated network (what the NIO adapters do on real sockets).
protocol ActionPerformer: AnyObject {
    func perform(_ actions: [LinkAction], from node: SimulatedNode)
    var now: Double { get }
}

/// The primary's side of the log on the simulated network: the real ``PrimaryChannel`` core.
final class SimulatedPrimaryLink: PrimaryLogChannel {
    var core: PrimaryChannel
    unowned let node: SimulatedNode
    unowned let network: any ActionPerformer
    /// The role's release on acknowledgements (called as the NIO adapter calls it).
    var onAcknowledged: (() -> Void)?

    init(node: SimulatedNode, network: any ActionPerformer, vm: String, heartbeat: HeartbeatSettings) {
        self.node = node
        self.network = network
        core = PrimaryChannel(vm: vm, heartbeat: heartbeat, now: network.now)
    }

    var status: PrimaryLink.Status { core.status(now: network.now) }

    func append(_ entry: LogEntry) -> UInt64 {
        let (sequence, actions) = core.append(entry, now: network.now)
        network.perform(actions, from: node)
        return sequence
    }

    func sendSnapshot(_ snapshot: [UInt8], generation: UInt64) -> Bool {
        let (sent, actions) = core.sendSnapshot(snapshot, generation: generation, now: network.now)
        network.perform(actions, from: node)
        return sent
    }

    func forgetBackup() {
        network.perform(core.forgetBackup(), from: node)
    }

    func sendHandover(instructionCount: UInt64) -> Bool {
        let (sent, actions) = core.sendHandover(instructionCount: instructionCount, now: network.now)
        network.perform(actions, from: node)
        return sent
    }
}

/// The backup's side of the log on the simulated network: the real ``BackupChannel`` core.
final class SimulatedBackupLink: BackupLogChannel {
    var core: BackupChannel
    unowned let node: SimulatedNode
    unowned let network: any ActionPerformer
    /// Planted bug: drop one input entry on the floor.
    var losesOneEntry = false

    init(node: SimulatedNode, network: any ActionPerformer, heartbeat: HeartbeatSettings) {
        self.node = node
        self.network = network
        core = BackupChannel(peers: ["line 1", "line 2"], heartbeat: heartbeat, now: network.now)
    }

    func takeInitialState() -> BackupLink.InitialState? { core.takeInitialState() }
    func takeEntries() -> [LogEntry] { core.takeEntries() }
    func noteExecuted(_ count: UInt64) { core.noteExecuted(count) }
    var isPrimaryLost: Bool { core.isPrimaryLost }
    var refusedReason: String? { core.refusedReason }
    func reportCaughtUp() { network.perform(core.caughtUp(), from: node) }
    var handover: UInt64? { core.handover }
    var lastHeard: Double? { core.lastHeard }
}
