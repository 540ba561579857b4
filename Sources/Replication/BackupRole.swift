import Machine
import Replay

/// The standby node: builds its machine from the primary's snapshot, then executes the log,
/// never past the last count the primary announced, until the primary is declared lost.
final class BackupRole {
    let configuration: NodeConfiguration
    let link: BackupLink
    let doorbell: Doorbell
    let log: NodeLog

    init(configuration: NodeConfiguration, link: BackupLink, doorbell: Doorbell, log: NodeLog) {
        self.configuration = configuration
        self.link = link
        self.doorbell = doorbell
        self.log = log
    }

    /// How the backup's life as a backup ended.
    enum Ending {
        /// The primary is gone and every received entry is executed: go live with this machine.
        case primaryLost(Machine, generation: UInt64)
        case stopped(NodeOutcome)
    }

    func run() -> Ending {
        // 1. The initial state.
        var state: BackupLink.InitialState?
        while state == nil {
            let ticket = doorbell.ticket
            state = link.takeInitialState()
            if state != nil { break }
            if let reason = link.refusedReason { return .stopped(.refused(reason)) }
            doorbell.wait(after: ticket, seconds: 0.5)
        }
        let machine: Machine
        do {
            let info = try SnapshotInfo(state!.snapshot)
            machine = try Machine(configuration: info.configuration)
            try machine.restoreSnapshot(state!.snapshot)
        } catch {
            return .stopped(.refused(ReplicationError.badSnapshot("\(error)").description))
        }
        let generation = state!.generation
        machine.skipsIdleTime = false
        machine.consoleOutput = { _ in }   // the primary's outputs are the ones that leave
        log("backup of VM '\(configuration.vm)' at generation \(generation), from instruction \(machine.instructionCount)")
        link.noteExecuted(machine.instructionCount)

        // 2. The log.
        while true {
            let ticket = doorbell.ticket
            let entries = link.takeEntries()
            for entry in entries {
                if let stop = execute(machine, to: entry.instructionCount) { return .stopped(stop) }
                if case .input(let event) = entry { machine.apply(event.input) }
            }
            link.noteExecuted(machine.instructionCount)
            if !entries.isEmpty { continue }
            if link.isPrimaryLost {
                let rest = link.takeEntries()
                if rest.isEmpty { return .primaryLost(machine, generation: generation) }
                for entry in rest {
                    if let stop = execute(machine, to: entry.instructionCount) { return .stopped(stop) }
                    if case .input(let event) = entry { machine.apply(event.input) }
                }
                return .primaryLost(machine, generation: generation)
            }
            if let reason = link.refusedReason { return .stopped(.refused(reason)) }
            doorbell.wait(after: ticket, seconds: 0.1)
        }
    }

    /// Runs to exactly `target`; nil when it got there.
    private func execute(_ machine: Machine, to target: UInt64) -> NodeOutcome? {
        while machine.instructionCount < target {
            switch machine.run(instructionLimit: target) {
            case .instructionLimit:
                continue
            case .waitingForInterrupt, .idle:
                if machine.instructionCount < target {
                    return .diverged("the guest waits for an interrupt at instruction \(machine.instructionCount), but the primary's next entry is at \(target)")
                }
            case .exited(let code):
                return .guestExited(code: code)
            case .resetRequested:
                return .guestReset
            }
        }
        return nil
    }
}
