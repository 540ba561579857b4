/// Which connection a line is: the line's index (the address pair it runs on, 0 or 1) and a
/// number that tells its successive connections apart. A message or a close from a connection
/// that a newer one on the same index has replaced names an old `LineID`, so the channel cores
/// (``PrimaryChannel``, ``BackupChannel``) ignore it.
public struct LineID: Hashable, Sendable, CustomStringConvertible {
    /// The line: the index of its address pair.
    public var index: Int
    /// Distinguishes the connections made on that line (unique among the lines of one process
    /// in the real node; a simulator numbers its connections as it likes).
    public var connection: UInt64

    public init(index: Int, connection: UInt64) {
        self.index = index
        self.connection = connection
    }

    public var description: String { "line \(index + 1) (connection \(connection))" }
}
