/// One record of an event log after the header.
public enum LogRecord: Equatable, Sendable {
    /// An input delivered at an instruction count.
    case event(Event)
    /// State and output digests at an instruction count: a replay that differs has diverged there
    /// (or before, after the previous checkpoint), and the checkpoint says what differs.
    case checkpoint(Checkpoint)
    /// The end of the session.
    case end(SessionEnd)
}

/// How a recorded session ended, and what it produced.
public struct SessionEnd: Equatable, Sendable {
    /// How the guest stopped.
    public enum Stop: Equatable, Sendable {
        /// The guest powered off with this exit code.
        case exited(code: Int32)
        /// The guest asked for a reboot (the recording ends there).
        case reset
        /// The host stopped the session (instruction limit, Ctrl-A X, end of input).
        case stoppedByHost
    }

    public var instructionCount: UInt64
    public var stateHash: UInt64
    /// Every output (console bytes, frames): total bytes and the ``OutputDigest`` value.
    public var outputByteCount: UInt64
    public var outputHash: UInt64
    public var stop: Stop

    public init(instructionCount: UInt64, stateHash: UInt64, outputByteCount: UInt64, outputHash: UInt64, stop: Stop) {
        self.instructionCount = instructionCount
        self.stateHash = stateHash
        self.outputByteCount = outputByteCount
        self.outputHash = outputHash
        self.stop = stop
    }
}
