/// One effect that a channel core (``PrimaryChannel``, ``BackupChannel``) asks for. The cores
/// perform no I/O themselves: each entry point returns the actions to perform, in order, and
/// whoever drives the core (the NIO adapters ``PrimaryLink`` and ``BackupLink``, or a
/// simulator) carries them out.
public enum LinkAction: Equatable, Sendable {
    /// Send these messages, in order, on the line (one flush).
    case send(LineID, [ReplicationMessage])
    /// Close the line. The core keeps it until it hears back that the line closed.
    case close(LineID)
    /// Send `refuse(reason)` on the line, then close it.
    case refuse(LineID, reason: String)
    /// Backup only: open a connection to the primary's address number `lineIndex`. When that
    /// attempt fails, or the connection it opened closes, tell the core
    /// (``BackupChannel/connectionEnded(lineIndex:)``).
    case connect(lineIndex: Int)
    /// Wake the machine thread (something it waits for changed).
    case ring
    /// A line for the node log.
    case log(String)
}
