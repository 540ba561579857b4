import DequeModule

/// The primary's side of the logging channel as a pure state machine (no sockets, no locks, no
/// clock): which backup it serves, its lines, the log entries the backup has not acknowledged
/// yet, the acknowledgements, the lease (the backup's echoes of the primary's heartbeat times)
/// and the silence on each line.
///
/// Every entry point takes the current time, `now`, in seconds on any monotonic time base (the
/// real node passes ``monotonicNow()``, a simulator its virtual clock), and returns the effects
/// to perform, in order, as ``LinkAction``s. ``PrimaryLink`` drives it from SwiftNIO; a
/// deterministic simulator can drive it with a virtual clock and a simulated network. Given
/// the same calls with the same times it returns the same actions (lines are visited in index
/// order, never in hash order).
///
/// Heartbeat times on the wire are the primary's clock in nanoseconds: `UInt64(now * 1e9)`.
public struct PrimaryChannel: Sendable {
    /// The VM's name (in refusals).
    public let vm: String
    public let heartbeat: HeartbeatSettings
    private var backupID: String?
    private var lines: [Int: LineID] = [:]
    private var liveLines: Set<Int> = []
    private var retained: Deque<(UInt64, LogEntry)> = []
    private var nextSequence: UInt64 = 1
    private var acknowledged: UInt64 = 0
    private var backupExecuted: UInt64 = 0
    private var synced = false
    private var lost = false
    private var joinLine: Int?
    private var joinReports: [DiskReport]?
    private var joinNumber: UInt64 = 0
    private var joinLive = false
    private var latestEcho: UInt64 = 0
    private var sentEntries: UInt64 = 0
    private var sentBytes: UInt64 = 0
    private var monitor: SilenceMonitor

    /// A primary without a backup, watching from `now`.
    public init(vm: String, heartbeat: HeartbeatSettings, now: Double) {
        self.vm = vm
        self.heartbeat = heartbeat
        monitor = SilenceMonitor(timeout: heartbeat.timeout, now: now)
    }

    /// The primary's clock as heartbeats carry it (nanoseconds).
    public static func nanoseconds(_ now: Double) -> UInt64 { UInt64(now * 1e9) }

    /// The lines the channel holds now (an adapter may forget every other connection).
    public var lineIDs: Set<LineID> { Set(lines.values) }

    /// What the machine thread needs to know, at `now` (the lease depends on it).
    public func status(now: Double) -> PrimaryLink.Status {
        var status = PrimaryLink.Status(lastSequence: nextSequence - 1, acknowledged: acknowledged, backupExecuted: backupExecuted,
                                        hasBackup: synced && !lost, backupLost: lost, joinRequested: joinLine != nil,
                                        retainedEntries: retained.count, sentEntries: sentEntries, sentBytes: sentBytes)
        status.leaseValid = Self.nanoseconds(now) &- latestEcho < halfTimeout
        status.leaseExpiry = Double(latestEcho + halfTimeout) / 1e9
        status.joinReports = joinLine == nil ? nil : joinReports
        status.joinNumber = joinNumber
        status.joinLive = joinLine != nil && joinLive
        return status
    }

    /// Half the heartbeat timeout in nanoseconds: how old the newest echo may be for the lease to hold.
    private var halfTimeout: UInt64 { UInt64(heartbeat.timeout / 2 * 1e9) }

    // MARK: The machine thread

    /// Assigns the next sequence number to `entry` and sends it to the backup, if there is one
    /// (on every live line).
    ///
    /// The driver must perform the returned sends before any other action this channel returns
    /// later: ``PrimaryLink`` performs them under its lock, which keeps the order of entries
    /// against a resend (`resume`).
    public mutating func append(_ entry: LogEntry, now: Double) -> (sequence: UInt64, actions: [LinkAction]) {
        let sequence = nextSequence
        nextSequence += 1
        guard synced, !lost else { return (sequence, []) }
        retained.append((sequence, entry))
        let message = ReplicationMessage.entry(sequence: sequence, entry)
        let actions: [LinkAction] = liveLines.sorted().compactMap { lines[$0] }.map { LinkAction.send($0, [message]) }
        sentEntries += 1
        sentBytes += UInt64(ReplicationFrameCodec.frameSize(message))
        return (sequence, actions)
    }

    /// Sends the initial state to the backup that asked for it (in 1 MiB chunks); the log
    /// continues after it. `sent` is false if the backup went away meanwhile.
    public mutating func sendSnapshot(_ snapshot: [UInt8], generation: UInt64, now: Double) -> (sent: Bool, actions: [LinkAction]) {
        guard let index = joinLine, let line = lines[index] else { joinLine = nil; return (false, []) }
        joinLine = nil
        let start = nextSequence
        let chunk = 1 << 20
        var messages: [ReplicationMessage] = []
        var offset = 0
        repeat {
            let end = min(offset + chunk, snapshot.count)
            messages.append(.snapshotChunk(generation: generation, startSequence: start, offset: UInt64(offset),
                                           total: UInt64(snapshot.count), bytes: Array(snapshot[offset..<end])))
            offset = end
        } while offset < snapshot.count
        retained = []
        acknowledged = start - 1
        synced = true
        lost = false
        liveLines = [index]
        monitor.reset(now: now)
        return (true, [
            .send(line, messages),
            .log("sent the initial state (\(snapshot.count) bytes, generation \(generation)) to backup \(backupID ?? "?"); the log starts at entry \(start)"),
        ])
    }

    /// Sends part of the disk copy to the backup that is joining (`sent` false if it went away);
    /// the join stays open until ``sendSnapshot(_:generation:now:)``.
    public mutating func sendDiskMessages(_ messages: [ReplicationMessage], now: Double) -> (sent: Bool, actions: [LinkAction]) {
        guard let index = joinLine, let line = lines[index] else { joinLine = nil; return (false, []) }
        for message in messages { sentBytes += UInt64(ReplicationFrameCodec.frameSize(message)) }
        return (true, [.send(line, messages)])
    }

    /// Tells the backup to take over: the guest stopped at `instructionCount`, after the last
    /// entry appended (``ReplicationMessage/handover(lastSequence:instructionCount:)``). False
    /// without a synchronised backup.
    public mutating func sendHandover(instructionCount: UInt64, now: Double) -> (sent: Bool, actions: [LinkAction]) {
        guard synced, !lost, !liveLines.isEmpty else { return (false, []) }
        let message = ReplicationMessage.handover(lastSequence: nextSequence - 1, instructionCount: instructionCount)
        return (true, liveLines.sorted().compactMap { lines[$0] }.map { LinkAction.send($0, [message]) })
    }

    /// Refuses the joining backup (its disk cannot be used), saying why.
    public mutating func refuseJoin(reason: String, now: Double) -> [LinkAction] {
        guard let index = joinLine, let line = lines[index] else { joinLine = nil; return [] }
        joinLine = nil
        return [.log("refused backup '\(backupID ?? "?")': \(reason)"), .refuse(line, reason: reason)]
    }

    /// After the primary won the arbiter without its backup: forget it, accept a new one.
    public mutating func forgetBackup() -> [LinkAction] {
        let old = orderedLines
        lines = [:]
        liveLines = []
        retained = []
        backupID = nil
        synced = false
        lost = false
        joinLine = nil
        return old.map { LinkAction.refuse($0, reason: "this primary has moved on without you (its backup was declared lost); restart the backup to join again") }
    }

    /// Stops: closes every line and forgets them (the listeners are the adapter's).
    public mutating func shutdown() -> [LinkAction] {
        let old = orderedLines
        lines = [:]
        return old.map { LinkAction.close($0) }
    }

    /// The lines held, in index order (never hash order: the same calls give the same actions).
    private var orderedLines: [LineID] { lines.keys.sorted().map { lines[$0]! } }

    // MARK: The lines

    /// A connection finished its handshake: the node `peerNodeID` is at the other end.
    public mutating func lineAuthenticated(_ line: LineID, peerNodeID peer: String, now: Double) -> [LinkAction] {
        if let current = backupID, current != peer, synced, !lost {
            let refusal = "VM '\(vm)' already has a backup (node '\(current)')"
            return [.log("refused node '\(peer)': \(refusal)"), .refuse(line, reason: refusal)]
        }
        var replaced: [LineID] = []
        if backupID != peer {
            // A new backup replaces one that never finished joining or is gone.
            replaced += orderedLines
            lines = [:]
            liveLines = []
            synced = false
            lost = false
            joinLine = nil
            backupID = peer
        }
        if let old = lines[line.index] { replaced.append(old) }
        lines[line.index] = line
        monitor.heard(line: line.index, at: now)
        return replaced.map { LinkAction.close($0) } + [.log("line \(line.index + 1) up to backup '\(peer)'")]
    }

    /// A message from the backup on `line` (ignored if that connection was replaced or dropped).
    public mutating func received(_ message: ReplicationMessage, on line: LineID, now: Double) -> [LinkAction] {
        guard lines[line.index] == line else { return [] }
        monitor.heard(line: line.index, at: now)
        var ring = false
        var actions: [LinkAction] = []
        switch message {
        case .join, .joinWithDisks, .joinLive:
            synced = false
            liveLines = []
            retained = []
            joinLine = line.index
            if case .joinWithDisks(let reports) = message { joinReports = reports } else { joinReports = nil }
            joinLive = message != .join
            joinNumber += 1
            ring = true
        case .resume(let next):
            guard synced, !lost else {
                return [.refuse(line, reason: "this primary has no synchronised backup: restart the backup so that it joins again")]
            }
            // The resend must reach the line before any entry appended from now on. In
            // PrimaryLink it is sent after the lock, on the event loop, while entries appended
            // from now on are written from the machine thread, so they queue behind this handler.
            let resend: [ReplicationMessage] = retained.filter { $0.0 >= next }.map { .entry(sequence: $0.0, $0.1) }
            if !resend.isEmpty { actions.append(.send(line, resend)) }
            liveLines.insert(line.index)
        case .ack(let sequence, let executed, let echo):
            guard synced else { return [] }
            renewLease(echo, now: now, ring: &ring)
            if sequence > acknowledged {
                acknowledged = min(sequence, nextSequence - 1)
                while let first = retained.first, first.0 <= acknowledged { retained.removeFirst() }
                ring = true
            }
            if executed > backupExecuted { backupExecuted = executed; ring = true }
        case .heartbeat(let echo):
            renewLease(echo, now: now, ring: &ring)
        case .hello, .proof, .refuse, .snapshotChunk, .entry, .diskPlan, .diskExtent, .ramPages, .handover:
            actions.append(.refuse(line, reason: "a backup does not send \(message.kind)"))
        }
        if ring { actions.append(.ring) }
        return actions
    }

    /// Takes a newer echo. A lease that had run out and is renewed wakes the machine thread,
    /// which may hold acknowledged output.
    private mutating func renewLease(_ echo: UInt64, now: Double, ring: inout Bool) {
        // An echo is a time this primary sent: one later than its clock is not, and kept it
        // would hide every true echo after it (the lease would read as lost until then).
        let time = Self.nanoseconds(now)
        guard echo > latestEcho, echo <= time else { return }
        if time &- latestEcho >= halfTimeout { ring = true }
        latestEcho = echo
    }

    /// The backup refused `line` (and closes it).
    public func refused(_ line: LineID, reason: String, now: Double) -> [LinkAction] {
        [.log("line \(line.index + 1) refused: \(reason)")]
    }

    /// The connection `line` closed (ignored if it had been replaced or dropped).
    public mutating func lineClosed(_ line: LineID, now: Double) -> [LinkAction] {
        guard lines[line.index] == line else { return [] }
        lines[line.index] = nil
        liveLines.remove(line.index)
        monitor.forget(line: line.index)
        if joinLine == line.index { joinLine = nil }
        return [.log("line \(line.index + 1) to the backup closed" + (lines.isEmpty ? "" : " (the other line carries on)"))]
    }

    /// Every heartbeat interval: heartbeats out (on every line), silence in (a silent line is
    /// closed; every line silent declares the backup lost).
    public mutating func tick(now: Double) -> [LinkAction] {
        let time = Self.nanoseconds(now)
        var actions: [LinkAction] = orderedLines.map { LinkAction.send($0, [.heartbeat(time: time)]) }
        for index in monitor.silentLines(at: now) {
            if let line = lines[index] {
                actions.append(.log("line \(index + 1) silent for more than \(Int(heartbeat.timeout * 1000)) ms: closing it"))
                actions.append(.close(line))
            }
            lines[index] = nil
            liveLines.remove(index)
            monitor.forget(line: index)
        }
        if synced, !lost, monitor.peerIsDead(at: now) {
            lost = true
            actions.append(.log("backup lost: every line silent for more than \(Int(heartbeat.timeout * 1000)) ms (backup '\(backupID ?? "?")')"))
            actions.append(.ring)
        }
        return actions
    }
}
