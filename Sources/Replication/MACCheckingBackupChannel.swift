import Machine

/// A backup's logging channel that refuses a primary whose guest has another MAC address than
/// the one this node was started with (`--mac`): the two nodes of a VM must agree on it, since a
/// failover moves the address to the backup's host and the pool gives each VM its own.
///
/// The primary's configuration first reaches the backup with its state (the snapshot, read
/// with ``SnapshotInfo``), so that is where the check is made: a state with another MAC address
/// is not handed on, and ``refusedReason`` says why and which `--mac` to give instead. Everything
/// else passes through to the channel it wraps.
final class MACCheckingBackupChannel: BackupLogChannel {
    let channel: any BackupLogChannel
    /// The MAC address this node's guest has (`--mac`).
    let mac: [UInt8]
    private var refusal: String?

    init(_ channel: any BackupLogChannel, mac: [UInt8]) {
        self.channel = channel
        self.mac = mac
    }

    /// Why a primary whose machine has `theirs` is refused by a node with `ours`.
    static func refusal(primary theirs: [UInt8], node ours: [UInt8]) -> String {
        let primary = MACAddress.format(theirs)
        return "the primary's guest has MAC address \(primary), this node was started with --mac \(MACAddress.format(ours)): "
            + "both nodes of a VM give its guest the same MAC address; start this node with --mac \(primary)"
    }

    func takeInitialState() -> BackupLink.InitialState? {
        guard refusal == nil, let state = channel.takeInitialState() else { return nil }
        // A state that is not a snapshot is the backup role's to refuse, as it always was.
        if let info = try? SnapshotInfo(state.snapshot), info.configuration.mac != mac {
            refusal = Self.refusal(primary: info.configuration.mac, node: mac)
            return nil
        }
        return state
    }

    var refusedReason: String? { refusal ?? channel.refusedReason }

    func takeEntries() -> [LogEntry] { channel.takeEntries() }
    func noteExecuted(_ count: UInt64) { channel.noteExecuted(count) }
    var isPrimaryLost: Bool { channel.isPrimaryLost }
    func takeCopyTransfers() -> [CopyTransfer] { channel.takeCopyTransfers() }
    func reportCaughtUp() { channel.reportCaughtUp() }
    var handover: UInt64? { channel.handover }
    var lastHeard: Double? { channel.lastHeard }
}
