import Arbitration
import Machine
import Replay
@_spi(Simulation) import Replication

/// One host's `lockstep node` in the simulation: the same roles as the real node (``PrimaryRole``,
/// ``BackupRole``) on the real channel cores, started, stepped, crashed and frozen by the cluster.
final class SimulatedNode {
    enum State {
        case down
        /// Asking the arbiter whether the VM runs (the first call a real node makes).
        case starting
        case backup(BackupRole, SimulatedBackupLink)
        /// A backup whose primary is lost, waiting for its claim.
        case claimingToGoLive(Machine, generation: UInt64, outputs: OutputDigest)
        case primary(PrimaryRole, SimulatedPrimaryLink)
        /// Stopped (lost the arbiter, refused, diverged): the cluster restarts it later, as an agent would.
        case stopped(NodeOutcome)
    }

    let id: String
    let index: Int
    var state: State = .down
    let console = SimulatedConsole()
    /// The process's event loop (set by the cluster).
    var loop: SimulatedLoop!
    /// Bumped when the node crashes: events of an earlier life are ignored.
    var incarnation: UInt64 = 0
    var frozenUntil: Double?
    /// A freeze that begins as a step of the node's machine thread ends with work handed to
    /// its event loop (or at the first step after `latest`).
    var freezeAfterStep: (length: Double, latest: Double)?
    /// The token of the latest scheduled step (older ones are stale).
    var stepToken: UInt64 = 0
    var stepScheduledAt: Double?
    /// Tags of the outputs the current primary role holds, in order (the output-rule check).
    var heldTags: [UInt64] = []
    /// A claim is with the arbiter: the real node blocks on it, so this one takes no step.
    var claimPending = false

    init(id: String, index: Int) {
        self.id = id
        self.index = index
    }

    var isAlive: Bool {
        if case .down = state { return false }
        return true
    }

    var primaryLink: SimulatedPrimaryLink? {
        if case .primary(_, let link) = state { return link }
        return nil
    }

    var backupLink: SimulatedBackupLink? {
        if case .backup(_, let link) = state { return link }
        return nil
    }

    /// Whether this node holds the machine (a primary, or a backup that has its initial state).
    var holdsState: Bool {
        switch state {
        case .primary, .claimingToGoLive: return true
        case .backup(let role, _): return role.machine != nil
        default: return false
        }
    }

    var isLivePrimary: Bool {
        if case .primary = state { return true }
        return false
    }
}
