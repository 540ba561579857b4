/// What one poll of a ``ConsoleBackend`` found.
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

/// The host side of a machine's console, whatever it is (the terminal, a TCP port, a simulated
/// one): input for the guest, and the guest's released output. `lockstep run` waits on it with
/// ``poll(timeout:)`` while the guest idles; a replicated primary takes input with
/// ``takeInput()`` and sleeps on its doorbell, which the backend's wake-up hook rings (see
/// ``TCPConsole``'s `onInput`). The network backends (``NetworkBackend``) wake the same wait with ``wake()``.
public protocol ConsoleBackend: AnyObject {
    /// Waits up to `timeout` seconds (0: just look) for input and returns what arrived. May return
    /// early with no bytes (for instance when a TCP client connects).
    func poll(timeout: Double) -> ConsolePoll

    /// True when nothing can ever arrive again (standard input reached end of file), so that a
    /// guest waiting for input with no timer armed will wait forever.
    var isClosed: Bool { get }

    /// Input that arrived, without waiting.
    func takeInput() -> [UInt8]

    /// Whether input is waiting (without taking it).
    var hasInput: Bool { get }

    /// Sends released console output to the console's reader(s).
    func write(_ bytes: [UInt8])

    /// Does all the work of writing `bytes` that can be done beforehand and returns what sends
    /// them: a primary reads the clock for its lease between the two, so that as little as
    /// possible lies between that reading and the write (see `PrimaryRole`).
    func prepareWrite(_ bytes: [UInt8]) -> () -> Void

    /// Makes a ``poll(timeout:)`` in progress (or the next one) return at once, from any thread:
    /// another source of input (a network frame) needs the machine thread.
    func wake()

    /// Stops serving clients for good (a primary that handed its VM over: nothing more leaves
    /// it, and its clients should find the new primary at once rather than wait on it). A console
    /// without clients of its own does nothing.
    func stopServing()
}

extension ConsoleBackend {
    public func stopServing() {}

    /// Nothing to prepare: the write itself.
    public func prepareWrite(_ bytes: [UInt8]) -> () -> Void {
        { [self] in write(bytes) }
    }
}
