import Machine

/// Why a follower (a replay, a backup) could not reproduce the run it follows.
public enum Divergence: Error, Equatable, CustomStringConvertible {
    /// The guest waited for an interrupt at `instructionCount`, but the next record is later.
    case idleBeforeTarget(instructionCount: UInt64, target: UInt64)
    /// The guest stopped (power-off, reset) before the next record.
    case stoppedEarly(instructionCount: UInt64, target: UInt64, reason: String)
    /// A checkpoint's state differs: what differs, and the last count where the states matched.
    case stateDiffers(StateDifference, lastMatch: UInt64)
    /// A checkpoint's output digest differs: the guest sent other bytes than the run it follows.
    case outputsDiffer(instructionCount: UInt64, expected: OutputDigest, actual: OutputDigest)
    /// The guest asked for a reset at `instructionCount`, but the next record is not the reboot
    /// there (it is at `next`, or is another input).
    case rebootMissing(instructionCount: UInt64, next: UInt64)
    /// The log reboots the machine at `instructionCount`, where this guest did not ask for a reset.
    case unexpectedReboot(instructionCount: UInt64)

    /// The instruction count at which the divergence was found.
    public var instructionCount: UInt64 {
        switch self {
        case .idleBeforeTarget(let count, _), .stoppedEarly(let count, _, _): return count
        case .stateDiffers(let difference, _): return difference.instructionCount
        case .outputsDiffer(let count, _, _): return count
        case .rebootMissing(let count, _), .unexpectedReboot(let count): return count
        }
    }

    public var description: String {
        switch self {
        case .idleBeforeTarget(let count, let target):
            return "diverged: the guest waits for an interrupt at instruction \(count), but the next record is at \(target)"
        case .stoppedEarly(let count, let target, let reason):
            return "diverged: the guest stopped (\(reason)) at instruction \(count), before the next record at \(target)"
        case .stateDiffers(let difference, let lastMatch):
            return "diverged: at instruction \(difference.instructionCount) the state differs in \(difference) (the states last matched at instruction \(lastMatch))"
        case .outputsDiffer(let count, let expected, let actual):
            return "diverged: by instruction \(count) the guest sent \(actual), the run it follows \(expected)"
        case .rebootMissing(let count, let next):
            return "diverged: the guest asked for a reset at instruction \(count), but the run it follows did not reboot there (its next record is \(next == count ? "another input" : "at instruction \(next)"))"
        case .unexpectedReboot(let count):
            return "diverged: the run it follows rebooted the machine at instruction \(count), where this guest did not ask for a reset"
        }
    }
}
