/// Why a snapshot could not be read or restored. Every case says what was wrong and, for damaged
/// data, at which byte offset of the snapshot; reading never crashes on bad input.
public enum SnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data ends early: reading `expected` at `offset` needs `needed` bytes, `available` remain.
    case truncated(offset: Int, expected: String, needed: Int, available: Int)
    /// The data does not start with the snapshot magic.
    case notASnapshot
    /// The snapshot was written in a format version this build cannot read.
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// A field at `offset` holds a value no snapshot holds; `what` says which and why.
    case invalidValue(offset: Int, what: String)
    /// A section's checksum does not match its contents: the file is damaged.
    case checksumMismatch(offset: Int, section: String, stored: UInt32, computed: UInt32)
    /// A section other than the one expected at this point.
    case unexpectedSection(offset: Int, found: String, expected: String)
    /// Bytes left over at `offset` after `what` was read completely.
    case trailingBytes(offset: Int, what: String, count: Int)
    /// The snapshot was taken on a machine configured differently from the one restoring it.
    case configurationMismatch(field: String, snapshot: UInt64, machine: UInt64)
    /// The snapshot was taken on a machine whose network card has another MAC address.
    case macAddressMismatch(snapshot: [UInt8], machine: [UInt8])
    /// The machine's disks are not the disks the snapshot was taken with (the text says how).
    case diskMismatch(String)
    /// A device of the machine differs from the snapshot's (the text says how).
    case deviceMismatch(String)
    /// An incremental snapshot applied to a machine that is not in its base state.
    case baseMismatch(String)
    /// An incremental snapshot was asked for while dirty-page tracking is off.
    case dirtyTrackingNotStarted
    /// A disk of the machine could not be read to compute its identity.
    case diskUnreadable(String)
    /// A live copy's pages or final snapshot were misused (the text says how).
    case liveCopy(String)

    public var description: String {
        switch self {
        case .truncated(let offset, let expected, let needed, let available):
            return "snapshot truncated at byte offset \(offset): \(expected) needs \(needed) bytes, only \(available) remain; the file is incomplete"
        case .notASnapshot:
            return "not a Lockstep snapshot (no \"LOCKSNAP\" magic at byte offset 0)"
        case .unsupportedVersion(let found, let supported):
            let readable = SnapshotFormat.readableVersions
            return "snapshot format version \(found) is not supported (this build writes version \(supported) and reads versions \(readable.lowerBound) to \(readable.upperBound)): use the Lockstep that wrote it"
        case .invalidValue(let offset, let what):
            return "invalid snapshot at byte offset \(offset): \(what)"
        case .checksumMismatch(let offset, let section, let stored, let computed):
            return "snapshot section \(section) at byte offset \(offset) is damaged: CRC32 is 0x\(String(computed, radix: 16)), the file says 0x\(String(stored, radix: 16))"
        case .unexpectedSection(let offset, let found, let expected):
            return "unexpected snapshot section \"\(found)\" at byte offset \(offset): expected \(expected)"
        case .trailingBytes(let offset, let what, let count):
            return "\(count) unexpected bytes at byte offset \(offset) after \(what)"
        case .configurationMismatch(let field, let snapshot, let machine):
            return "the snapshot was taken on a machine with \(field) \(snapshot), this machine has \(machine): create the machine with the snapshot's configuration (SnapshotInfo tells it)"
        case .macAddressMismatch(let snapshot, let machine):
            let theirs = MACAddress.format(snapshot)
            return "the snapshot's MAC address is \(theirs), this machine's is \(MACAddress.format(machine)): create the machine with the snapshot's (start it with --mac \(theirs))"
        case .diskMismatch(let why):
            return "the machine's disks differ from the snapshot's: \(why)"
        case .deviceMismatch(let why):
            return "the machine's devices differ from the snapshot's: \(why)"
        case .baseMismatch(let why):
            return "this incremental snapshot does not apply to the machine's current state: \(why); restore its base snapshot (and the incremental snapshots before it) first"
        case .dirtyTrackingNotStarted:
            return "an incremental snapshot needs dirty-page tracking: call startDirtyTracking() when taking the base snapshot"
        case .diskUnreadable(let why):
            return "cannot read a disk of the machine to identify it: \(why)"
        case .liveCopy(let why):
            return "live copy: \(why)"
        }
    }
}
