/// What one poll of a ``ConsoleInput`` found.
public enum ConsolePoll: Equatable, Sendable {
    /// Bytes for the guest's console (possibly none).
    case bytes([UInt8])
    /// The user asked to quit (Ctrl-A X on a terminal).
    case quit

    /// The bytes for the guest; none for ``quit``.
    public var bytes: [UInt8] {
        if case .bytes(let bytes) = self { return bytes }
        return []
    }
}

/// Where a running machine's console input comes from: a terminal, a TCP port. The run loop is
/// synchronous: it executes a slice of instructions, then polls its input, waiting on it (up to
/// the time the guest would sleep anyway) while the guest idles.
public protocol ConsoleInput: AnyObject {
    /// Waits up to `timeout` seconds (0: just look) for input and returns what arrived. May return
    /// early with no bytes (for instance when a TCP client connects).
    func poll(timeout: Double) -> ConsolePoll

    /// True when nothing can ever arrive again (standard input reached end of file), so that a
    /// guest waiting for input with no timer armed will wait forever.
    var isClosed: Bool { get }
}
