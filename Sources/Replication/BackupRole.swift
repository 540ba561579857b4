import Machine
import Replay

/// The standby node, as a state machine the owner steps: builds its machine from the primary's
/// snapshot, then follows the log with the ``Follower`` (never past the last count the primary
/// announced, comparing every checkpoint), until the primary is declared lost.
@_spi(Simulation) public final class BackupRole {
    /// What the owner does after a step.
    public enum Step {
        case `continue`
        /// Nothing to do before this time unless something happens (a ring).
        case wait(until: Double)
        /// The primary is gone and every received entry is executed: go live with this machine.
        case primaryLost(Machine, generation: UInt64, outputs: OutputDigest)
        case stopped(NodeOutcome)
    }

    let configuration: NodeConfiguration
    let link: any BackupLogChannel
    let log: NodeLog
    let clock: () -> Double
    private var follower: Follower?
    private var generation: UInt64 = 0
    @_spi(Simulation) public var plantedBug: PlantedBug?
    /// The machine being followed (nil before the initial state arrived).
    public var machine: Machine? { follower?.machine }

    public init(configuration: NodeConfiguration, link: any BackupLogChannel, log: NodeLog, clock: @escaping () -> Double) {
        self.configuration = configuration
        self.link = link
        self.log = log
        self.clock = clock
    }

    public func step() -> Step {
        guard let follower else {
            if let state = link.takeInitialState() { return start(state) }
            if let reason = link.refusedReason { return .stopped(.refused(reason)) }
            return .wait(until: clock() + 0.5)
        }
        let entries = link.takeEntries()
        if let stop = execute(entries, on: follower) { return .stopped(stop) }
        link.noteExecuted(follower.machine.instructionCount)
        if !entries.isEmpty { return .continue }
        if link.isPrimaryLost {
            if let stop = execute(link.takeEntries(), on: follower) { return .stopped(stop) }
            return .primaryLost(follower.machine, generation: generation, outputs: follower.outputDigest)
        }
        if let reason = link.refusedReason { return .stopped(.refused(reason)) }
        return .wait(until: clock() + 0.1)
    }

    /// Builds the machine from the primary's snapshot.
    private func start(_ state: BackupLink.InitialState) -> Step {
        let machine: Machine
        do {
            let info = try SnapshotInfo(state.snapshot)
            machine = try Machine(configuration: info.configuration)
            try machine.restoreSnapshot(state.snapshot)
        } catch {
            return .stopped(.refused(ReplicationError.badSnapshot("\(error)").description))
        }
        generation = state.generation
        // The primary's outputs are the ones that leave; the backup's are only digested, and the
        // first checkpoint (taken where the snapshot was) says what was sent before.
        follower = Follower(machine: machine, outputs: nil)
        log("backup of VM '\(configuration.vm)' at generation \(generation), from instruction \(machine.instructionCount)")
        link.noteExecuted(machine.instructionCount)
        return .continue
    }

    /// Follows `entries`; an outcome when following must stop.
    private func execute(_ entries: [LogEntry], on follower: Follower) -> NodeOutcome? {
        for entry in entries {
            if plantedBug == .loseEntry, case .input = entry {
                plantedBug = nil   // planted: one input silently lost
                continue
            }
            do {
                switch try follower.take(entry) {
                case .exited(let code)?: return .guestExited(code: code)
                default: break   // a reset request waits for the primary's reboot entry at the same count
                }
                if case .input(let event) = entry, event.input == .reboot {
                    log("the guest rebooted at instruction \(event.instructionCount), as on the primary")
                }
            } catch {
                log("\(error); stopping this backup (restart it to join again from a fresh state)")
                return .diverged(error.description)
            }
        }
        return nil
    }
}
