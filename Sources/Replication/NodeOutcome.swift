/// How a node's life ended.
public enum NodeOutcome: Equatable, Sendable {
    /// The guest powered off with this exit code.
    case guestExited(code: Int32)
    /// The guest asked for a reset and the primary's live runner does not reboot guests
    /// (``LiveRunner/Settings/rebootsOnReset`` off). A Linux guest's reboot is not an outcome: it
    /// is an entry in the log, and both nodes reboot the machine at the same count.
    case guestReset
    /// Another node won the arbiter: this one stopped its VM.
    case lostArbitration(generation: UInt64, owner: String)
    /// The peer refused this node (another VM, wrong key, the primary moved on).
    case refused(String)
    /// The backup's execution left the primary's (a bug, or a damaged log).
    case diverged(String)
    /// A planned switchover: this primary stopped its guest and its backup took over.
    case handedOver(instructionCount: UInt64)
}
