/// Why an event log cannot be read. Every case names the byte offset where reading stopped.
public enum EventLogError: Error, Equatable, CustomStringConvertible {
    /// The file does not start with the event-log magic: not a Lockstep event log.
    case notAnEventLog
    /// A log written by a format version this build does not read.
    case unsupportedVersion(UInt16)
    /// The file ends in the middle of something.
    case truncated(offset: Int, expected: String)
    /// A header or record whose checksum does not match its bytes.
    case checksumMismatch(offset: Int, what: String)
    /// A value that cannot be right (an unknown kind, an impossible length...).
    case malformed(offset: Int, what: String)
    /// Records must be in instruction-count order.
    case outOfOrder(offset: Int, count: UInt64, previous: UInt64)
    /// The log has no end record: the recording was cut off. Records before are intact.
    case missingEnd(offset: Int)

    public var description: String {
        switch self {
        case .notAnEventLog:
            return "not a Lockstep event log (no \"LSTPLOG\" magic at offset 0)"
        case .unsupportedVersion(let version):
            let readable = EventLogFormat.readableVersions
            return "event log format version \(version) is not supported by this Lockstep (it reads versions \(readable.lowerBound) to \(readable.upperBound))" + (version < readable.lowerBound ? "; record the session again with this Lockstep" : "; replay it with the Lockstep that recorded it")
        case .truncated(let offset, let expected):
            return "the log is truncated at byte \(offset): expected \(expected)"
        case .checksumMismatch(let offset, let what):
            return "the log is damaged at byte \(offset): the checksum of the \(what) does not match"
        case .malformed(let offset, let what):
            return "the log is malformed at byte \(offset): \(what)"
        case .outOfOrder(let offset, let count, let previous):
            return "the log is malformed at byte \(offset): a record at instruction \(count) follows one at \(previous)"
        case .missingEnd(let offset):
            return "the log ends at byte \(offset) without an end record: the recording was cut off"
        }
    }
}
