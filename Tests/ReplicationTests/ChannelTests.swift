import Replay
@testable import Replication
import Testing

/// The logging channel's protocol (``PrimaryChannel`` and ``BackupChannel``) driven directly:
/// a simulated network and a virtual clock (``ChannelPump``), no sockets, no sleeps.
@Suite struct ChannelTests {
    static let heartbeat = ChannelPump.heartbeat

    func entry(_ i: Int) -> LogEntry {
        i % 3 == 0 ? .input(Event(instructionCount: UInt64(10 * i), input: .consoleBytes([UInt8(i & 0xFF)])))
            : .progress(instructionCount: UInt64(10 * i))
    }

    @Test func aBackupJoinsGetsTheStateAndEveryEntryInOrderAndAcknowledges() {
        var pump = ChannelPump()
        #expect(pump.append(.progress(instructionCount: 1)) == 1)   // before any backup: not retained
        #expect(pump.status.retainedEntries == 0 && !pump.status.hasBackup)
        pump.start()
        #expect(pump.status.joinRequested)
        #expect(pump.receivedByBackup.isEmpty)
        var snapshot = [UInt8](repeating: 0, count: 2_500_000)   // three chunks
        for i in stride(from: 0, to: snapshot.count, by: 997) { snapshot[i] = UInt8(truncatingIfNeeded: i / 997 + 1) }
        let (sent, actions) = pump.primary.sendSnapshot(snapshot, generation: 4, now: pump.now)
        #expect(sent)
        pump.performPrimary(actions)
        pump.run()
        let state = pump.backup.takeInitialState()
        #expect(state?.snapshot == snapshot)
        #expect(state?.generation == 4)
        #expect(pump.backup.takeInitialState() == nil, "the initial state is taken once")
        #expect(pump.status.hasBackup && !pump.status.joinRequested)
        #expect(pump.receivedByBackup.filter { if case .snapshotChunk = $0.message { true } else { false } }.count == 3)

        var appended: [LogEntry] = []
        for i in 0..<40 {
            pump.append(entry(i))
            appended.append(entry(i))
        }
        pump.run()
        #expect(pump.backup.takeEntries() == appended)
        // Each entry went on both lines (the second one resumed at the log's start).
        for line in 0..<2 {
            let sequences = pump.receivedByBackup.compactMap { $0.line == line ? $0.message.entrySequence : nil }
            #expect(sequences == Array(2...41), "line \(line + 1) carried \(sequences)")
        }
        #expect(pump.status.lastSequence == 41)
        #expect(pump.status.acknowledged == 41)
        #expect(pump.status.retainedEntries == 0)
        #expect(pump.status.sentEntries == 40)
        pump.backup.noteExecuted(4990)
        // The backup's heartbeats carry an acknowledgement, and from the second on, the echo
        // of the primary's first heartbeat.
        pump.advance(by: 2 * Self.heartbeat.interval)
        #expect(pump.status.backupExecuted == 4990)
        #expect(pump.status.leaseValid)
    }

    /// The initial state is sent on the line the backup joined on; that line goes silent (the
    /// snapshot never arrives) while the other line stays up and keeps both sides' heartbeats
    /// going. The backup must join again on the other line, not wait forever (found by lockstep-sim).
    @Test func aJoinWhoseLineGoesSilentStartsOverOnTheOtherLine() {
        var pump = ChannelPump()
        pump.start()
        #expect(pump.status.joinRequested)
        let joinedOn = 0   // the backup joins on the first line that comes up
        pump.dropToBackup.insert(joinedOn)
        pump.dropToPrimary.insert(joinedOn)
        pump.performPrimary(pump.primary.sendSnapshot([1, 2, 3], generation: 1, now: pump.now).actions)
        pump.run()
        #expect(pump.backup.takeInitialState() == nil)
        #expect(!pump.status.joinRequested)
        pump.advance(by: 2 * ChannelPump.heartbeat.timeout)
        #expect(pump.status.joinRequested, "the backup did not join again on the line that is up")
        pump.performPrimary(pump.primary.sendSnapshot([4, 5, 6], generation: 1, now: pump.now).actions)
        pump.run()
        #expect(pump.backup.takeInitialState()?.snapshot == [4, 5, 6])
        #expect(pump.backupLog.contains { $0.contains("joining again on line 2") })
    }

    @Test func aLostLineIsReportedAndTheOtherCarriesTheLog() {
        var pump = ChannelPump()
        pump.synchronised()
        pump.cut(1)
        #expect(pump.primaryLog.contains("line 2 to the backup closed (the other line carries on)"))
        #expect(pump.backupLog.contains("line 2 to the primary closed"))
        for i in 1...20 { pump.append(entry(i)) }
        pump.run()
        #expect(pump.backup.takeEntries().count == 20)
        // Many timeouts later: one line down is not a lost peer.
        pump.advance(by: 5 * Self.heartbeat.timeout)
        #expect(!pump.status.backupLost && !pump.backup.isPrimaryLost)
        #expect(pump.status.acknowledged == pump.status.lastSequence)

        // Line 1 now loses what the primary sends; line 2 comes back and resumes: the primary
        // resends what the backup has not acknowledged, in order.
        pump.dropToBackup = [0]
        for i in 21...23 { pump.append(entry(i)) }
        pump.run()
        #expect(pump.backup.takeEntries().isEmpty)
        #expect(pump.status.retainedEntries == 3)
        pump.unreachable = []
        pump.advance(by: Self.heartbeat.interval)
        #expect(pump.backup.takeEntries() == (21...23).map(entry))
        #expect(pump.status.acknowledged == pump.status.lastSequence && pump.status.retainedEntries == 0)
    }

    @Test func totalSilencePastTheTimeoutDeclaresEachSideLost() {
        var pump = ChannelPump()
        pump.synchronised()
        pump.advance(by: 0.2)
        let rings = (pump.primaryRings, pump.backupRings)
        // The network goes silent both ways; the connections stay up.
        pump.dropToBackup = [0, 1]
        pump.dropToPrimary = [0, 1]
        pump.advance(by: Self.heartbeat.timeout - 2 * Self.heartbeat.interval)
        #expect(!pump.status.backupLost && !pump.backup.isPrimaryLost)
        #expect(pump.open.count == 2)
        pump.advance(by: 3 * Self.heartbeat.interval)
        #expect(pump.status.backupLost && !pump.status.hasBackup)
        #expect(pump.backup.isPrimaryLost)
        #expect(pump.primaryRings > rings.0 && pump.backupRings > rings.1)
        #expect(pump.primaryLog.contains { $0.hasPrefix("backup lost: every line silent") })
        #expect(pump.backupLog.contains { $0.hasPrefix("primary lost: every line silent") })
        #expect(pump.open.isEmpty)
        // A backup that declared its primary dead never talks to it again.
        pump.unreachable = []
        pump.dropToBackup = []
        pump.dropToPrimary = []
        #expect(pump.backup.tick(now: pump.now + 1).isEmpty)
        #expect(pump.backup.readComplete(on: LineID(index: 0, connection: 1), now: pump.now + 1).isEmpty)
    }

    @Test func theLeaseRunsOutWhenTheBackupGoesQuietAndIgnoresEchoesFromTheFuture() {
        var pump = ChannelPump()
        pump.synchronised()
        pump.advance(by: 0.2)
        #expect(pump.status.leaseValid)
        // The backup's messages stop arriving: past half a timeout the lease is gone, though
        // the backup is not declared lost yet.
        pump.dropToPrimary = [0, 1]
        pump.advance(by: Self.heartbeat.timeout / 2 + Self.heartbeat.interval)
        #expect(!pump.status.leaseValid)
        #expect(!pump.status.backupLost)
        // An echo later than the primary's clock is not one it sent: ignored, and it does not
        // hide the true echo that follows.
        let line = pump.primary.lineIDs.min { $0.index < $1.index }!
        let future = PrimaryChannel.nanoseconds(pump.now + 3600)
        #expect(pump.primary.received(.heartbeat(time: future), on: line, now: pump.now) == [])
        #expect(!pump.status.leaseValid)
        let rings = pump.primaryRings
        pump.dropToPrimary = []
        pump.advance(by: Self.heartbeat.interval)
        #expect(pump.status.leaseValid)
        #expect(pump.primaryRings > rings, "a renewed lease wakes the machine thread")
    }

    /// The margin the output rule stands on: a primary stopped (frozen) right after its lease
    /// was renewed holds a lease that runs out at least half a heartbeat timeout before its
    /// backup may declare it dead and go live, so a write decided under the lease and delayed
    /// by less than that (scheduling, not a stop) still comes before any other node's output.
    @Test func aStoppedPrimarysLeaseRunsOutHalfATimeoutBeforeItsBackupMayGoLive() {
        var pump = ChannelPump()
        pump.synchronised()
        for n in 0..<5 { pump.append(entry(n)) }
        pump.advance(by: 0.3)
        #expect(pump.status.leaseValid)
        let expiry = pump.status.leaseExpiry
        #expect(expiry > pump.now, "renewed by the echo of the last heartbeat")
        #expect(expiry <= pump.now + Self.heartbeat.timeout / 2)
        // The primary stops: nothing it would send arrives, nothing sent to it is taken in.
        pump.dropToBackup = [0, 1]
        pump.dropToPrimary = [0, 1]
        var declared: Double?
        for _ in 0..<40 where declared == nil {
            pump.advance(by: Self.heartbeat.interval)
            if pump.backup.isPrimaryLost { declared = pump.now }
        }
        guard let declared else {
            Issue.record("the backup never declared its primary lost")
            return
        }
        #expect(pump.status.leaseExpiry == expiry, "no echo renewed the lease of a stopped primary")
        #expect(declared - expiry >= Self.heartbeat.timeout / 2 - 1e-6,
                "the lease ran out at \(expiry), the backup declared its primary lost at \(declared)")
    }

    @Test func duplicatesAreDroppedAndAGapOrAForeignMessageClosesTheLine() {
        var backup = BackupChannel(peers: ["p:1"], heartbeat: Self.heartbeat, now: 0)
        #expect(backup.tick(now: 0) == [.log("waiting for the primary at p:1"), .connect(lineIndex: 0)])
        let line = LineID(index: 0, connection: 1)
        #expect(backup.lineAuthenticated(line, peerNodeID: "P", now: 0.01) == [.log("line 1 up to primary 'P'"), .send(line, [.join])])
        #expect(backup.received(.snapshotChunk(generation: 1, startSequence: 5, offset: 0, total: 2, bytes: [1]), on: line, now: 0.02) == [])
        // A piece out of order.
        let stale = LineID(index: 0, connection: 0)
        #expect(backup.received(.snapshotChunk(generation: 1, startSequence: 5, offset: 1, total: 2, bytes: [2]), on: stale, now: 0.03) == [],
                "a message from a replaced connection counts")
        #expect(backup.received(.snapshotChunk(generation: 1, startSequence: 5, offset: 1, total: 2, bytes: [2]), on: line, now: 0.03) == [.ring])
        #expect(backup.takeInitialState()?.snapshot == [1, 2])
        #expect(backup.received(.entry(sequence: 5, .progress(instructionCount: 50)), on: line, now: 0.04) == [.ring])
        #expect(backup.received(.entry(sequence: 5, .progress(instructionCount: 50)), on: line, now: 0.04) == [], "a copy")
        #expect(backup.received(.entry(sequence: 4, .progress(instructionCount: 40)), on: line, now: 0.04) == [], "an old one")
        #expect(backup.received(.entry(sequence: 6, .progress(instructionCount: 60)), on: line, now: 0.04) == [.ring])
        #expect(backup.takeEntries() == [.progress(instructionCount: 50), .progress(instructionCount: 60)])
        #expect(backup.readComplete(on: line, now: 0.05) == [.send(line, [.ack(sequence: 6, executedCount: 0, echo: 0)])])
        #expect(backup.readComplete(on: line, now: 0.05) == [], "one acknowledgement per read with news")
        #expect(backup.received(.entry(sequence: 8, .progress(instructionCount: 80)), on: line, now: 0.06)
                == [.log("closing line 1: entry 8 when 7 was due"), .close(line)])
        #expect(backup.received(.ack(sequence: 1, executedCount: 0, echo: 0), on: line, now: 0.06)
                == [.log("closing line 1: a primary does not send ack"), .close(line)])
        #expect(backup.takeEntries().isEmpty)

        // The primary: a backup that sends an entry is refused; a replaced connection is ignored.
        var primary = PrimaryChannel(vm: "kv", heartbeat: Self.heartbeat, now: 0)
        let first = LineID(index: 0, connection: 1), second = LineID(index: 0, connection: 2)
        _ = primary.lineAuthenticated(first, peerNodeID: "B", now: 0)
        #expect(primary.lineAuthenticated(second, peerNodeID: "B", now: 0.01) == [.close(first), .log("line 1 up to backup 'B'")])
        #expect(primary.received(.join, on: first, now: 0.02) == [])
        #expect(!primary.status(now: 0.02).joinRequested)
        #expect(primary.lineClosed(first, now: 0.02) == [])
        #expect(primary.received(.entry(sequence: 1, .progress(instructionCount: 1)), on: second, now: 0.03)
                == [.refuse(second, reason: "a backup does not send entry")])
        #expect(primary.received(.resume(nextSequence: 1), on: second, now: 0.03)
                == [.refuse(second, reason: "this primary has no synchronised backup: restart the backup so that it joins again")])
    }

    @Test func aSecondBackupIsRefusedWhileTheFirstIsAliveAndAcceptedOnceItIsLost() {
        var pump = ChannelPump()
        pump.synchronised()
        var other = BackupChannel(peers: ["p:1"], heartbeat: Self.heartbeat, now: pump.now)
        let line = LineID(index: 0, connection: 100)
        let refusal = "VM 'kv' already has a backup (node 'B')"
        #expect(pump.primary.lineAuthenticated(line, peerNodeID: "B2", now: pump.now)
                == [.log("refused node 'B2': \(refusal)"), .refuse(line, reason: refusal)])
        _ = other.lineAuthenticated(line, peerNodeID: "P", now: pump.now)
        #expect(other.refused(line, reason: refusal, now: pump.now) == [.log("line 1 refused: \(refusal)"), .ring])
        #expect(other.refusedReason == refusal)
        // The first backup carries on.
        pump.append(.progress(instructionCount: 5))
        pump.run()
        #expect(pump.backup.takeEntries() == [.progress(instructionCount: 5)])
        #expect(pump.status.hasBackup)

        // Once the first is lost, a new backup replaces it (its lines are closed).
        pump.dropToPrimary = [0, 1]
        pump.advance(by: Self.heartbeat.timeout + 2 * Self.heartbeat.interval)
        #expect(pump.status.backupLost)
        let old = pump.primary.lineIDs
        let actions = pump.primary.lineAuthenticated(line, peerNodeID: "B2", now: pump.now)
        #expect(actions.contains(.log("line 1 up to backup 'B2'")))
        #expect(Set(actions.compactMap { if case .close(let id) = $0 { id } else { nil } }) == old)
        #expect(!pump.status.backupLost && !pump.status.hasBackup)
        #expect(pump.primary.lineIDs == [line])
    }

    @Test func forgettingTheBackupRefusesItsLines() {
        var pump = ChannelPump()
        pump.synchronised()
        let lines = pump.primary.lineIDs
        let actions = pump.primary.forgetBackup()
        #expect(Set(actions.compactMap { if case .refuse(let id, _) = $0 { id } else { nil } }) == lines)
        #expect(pump.primary.lineIDs.isEmpty)
        #expect(!pump.status.hasBackup && !pump.status.backupLost)
        // Entries from now on are not retained for anyone.
        #expect(pump.primary.append(.progress(instructionCount: 9), now: pump.now).actions.isEmpty)
        #expect(pump.status.retainedEntries == 0)
    }

    @Test func aBackupThatCannotReachThePrimaryRetriesAndSaysSoEveryFiveSeconds() {
        var pump = ChannelPump()
        pump.unreachable = [0, 1]
        pump.start()
        pump.advance(by: 6)
        #expect(pump.backupLog.filter { $0.hasPrefix("waiting for the primary at p:1, p:2") }.count == 2)
        #expect(pump.trace.filter { $0.hasSuffix("connect(lineIndex: 1)") }.count > 100)
        pump.unreachable = []
        pump.advance(by: Self.heartbeat.interval)
        #expect(pump.status.joinRequested)
        #expect(pump.backup.isConnected)
    }

    /// The same calls at the same times give the same actions: what a simulator relies on.
    @Test func theSameRunGivesTheSameTrace() {
        func run() -> [String] {
            var pump = ChannelPump()
            pump.synchronised()
            for i in 1...30 { pump.append(entry(i)) }
            pump.advance(by: 0.3)
            pump.cut(0)
            pump.advance(by: 0.6)
            pump.dropToBackup = [1]
            pump.advance(by: 0.6)
            return pump.trace
        }
        let first = run()
        #expect(first.count > 100)
        #expect(run() == first)
    }
}

extension ReplicationMessage {
    /// The sequence number of an entry.
    var entrySequence: UInt64? {
        if case .entry(let sequence, _) = self { return sequence }
        return nil
    }
}
