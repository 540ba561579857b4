/// The result of reading every acknowledged write back (``Ledger/verify(using:)``).
public struct VerificationReport: Sendable, Equatable, CustomStringConvertible {
    /// How many keys were read back.
    public var keysChecked = 0
    /// How many writes the ledger holds acknowledgements for.
    public var acknowledgedWrites = 0
    /// Acknowledged writes that the service lost or reverted.
    public var lost: [LostWrite] = []
    /// Keys that hold a value whose write was never acknowledged (allowed: the answer was lost).
    public var unacknowledgedApplied = 0

    public init(keysChecked: Int = 0, acknowledgedWrites: Int = 0, lost: [LostWrite] = [], unacknowledgedApplied: Int = 0) {
        self.keysChecked = keysChecked
        self.acknowledgedWrites = acknowledgedWrites
        self.lost = lost
        self.unacknowledgedApplied = unacknowledgedApplied
    }

    /// True when no acknowledged write was lost.
    public var isClean: Bool { lost.isEmpty }

    public var description: String {
        var text = "verified \(keysChecked) keys (\(acknowledgedWrites) acknowledged writes): "
        if isClean {
            text += "none lost"
        } else {
            text += "\(lost.count) LOST"
            for write in lost.prefix(20) { text += "\n  lost: \(write)" }
            if lost.count > 20 { text += "\n  ... and \(lost.count - 20) more" }
        }
        if unacknowledgedApplied > 0 { text += "; \(unacknowledgedApplied) unacknowledged writes applied" }
        return text
    }
}
