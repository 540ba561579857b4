import Foundation
import NIOPosix
import Replay
@testable import Replication
import Testing

/// PrimaryLink and BackupLink over real loopback sockets (no machines): joining, the initial
/// state, entries in order with acknowledgements, resending on a reconnected line, refusals,
/// and declaring the peer lost.
@Suite(.serialized) struct LinkTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let heartbeat = HeartbeatSettings(interval: 0.02, timeout: 0.2)

    func primary(key: String = "k", vm: String = "kv") throws -> (PrimaryLink, Doorbell, [(host: String, port: Int)]) {
        let doorbell = Doorbell()
        let link = PrimaryLink(authentication: PeerAuthentication(key: Array(key.utf8), vm: vm, nodeID: "P"), heartbeat: heartbeat,
                               doorbell: doorbell, log: NodeLog(nodeID: "P"), group: group)
        let bound = try link.listen(on: [("127.0.0.1", 0), ("127.0.0.1", 0)])
        return (link, doorbell, bound)
    }

    func backup(_ peers: [(host: String, port: Int)], key: String = "k", vm: String = "kv", id: String = "B") -> (BackupLink, Doorbell) {
        let doorbell = Doorbell()
        let link = BackupLink(authentication: PeerAuthentication(key: Array(key.utf8), vm: vm, nodeID: id), heartbeat: heartbeat,
                              doorbell: doorbell, log: NodeLog(nodeID: id), group: group, peers: peers)
        link.start()
        return (link, doorbell)
    }

    /// Polls `condition` for up to `seconds`.
    func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }

    @Test func backupJoinsReceivesTheStateAndEveryEntryInOrder() throws {
        let (p, _, addresses) = try primary()
        defer { p.shutdown() }
        p.append(.progress(instructionCount: 1))   // before any backup: not retained
        let (b, _) = backup(addresses)
        defer { b.shutdown() }
        #expect(eventually { p.status.joinRequested })
        let snapshot = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }   // three chunks
        #expect(p.sendSnapshot(snapshot, generation: 4))
        var sent: [LogEntry] = []
        for i in 0..<500 {
            let entry: LogEntry = i % 3 == 0
                ? .input(Event(instructionCount: UInt64(10 * i), input: .consoleBytes([UInt8(i & 0xFF)])))
                : .progress(instructionCount: UInt64(10 * i))
            p.append(entry)
            sent.append(entry)
        }
        var state: BackupLink.InitialState?
        #expect(eventually { state = state ?? b.takeInitialState(); return state != nil })
        #expect(state?.snapshot == snapshot)
        #expect(state?.generation == 4)
        var received: [LogEntry] = []
        #expect(eventually { received += b.takeEntries(); return received.count >= sent.count })
        #expect(received == sent)
        let last = p.status.lastSequence
        #expect(eventually { p.status.acknowledged == last })
        #expect(p.status.hasBackup && p.status.retainedEntries == 0)
        b.noteExecuted(4990)
        #expect(eventually { p.status.backupExecuted == 4990 })
    }

    @Test func theLogGoesOnWhenOneLineNeverComesUp() throws {
        let (p, _, addresses) = try primary()
        defer { p.shutdown() }
        // Line 2 points at a closed port.
        let closed = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let deadPort = closed.localAddress!.port!
        try closed.close().wait()
        let (b, _) = backup([addresses[0], ("127.0.0.1", deadPort)])
        defer { b.shutdown() }
        #expect(eventually { p.status.joinRequested })
        p.sendSnapshot([1, 2, 3], generation: 1)
        for i in 1...50 { p.append(.progress(instructionCount: UInt64(i))) }
        var received: [LogEntry] = []
        #expect(eventually { received += b.takeEntries(); return received.count == 50 })
        // Well past the timeout: one line down is not a lost peer.
        usleep(500_000)
        #expect(!p.status.backupLost && !b.isPrimaryLost)
    }

    @Test func wrongKeyAndWrongVMAreRefusedWithAReason() throws {
        let (p, _, addresses) = try primary()
        defer { p.shutdown() }
        let (stranger, _) = backup(addresses, key: "guess")
        #expect(eventually { stranger.refusedReason != nil })
        #expect(stranger.refusedReason?.contains("key") == true)
        stranger.shutdown()
        let (other, _) = backup(addresses, vm: "db")
        #expect(eventually { other.refusedReason != nil })
        #expect(other.refusedReason?.contains("'kv'") == true && other.refusedReason?.contains("'db'") == true)
        other.shutdown()
        #expect(!p.status.joinRequested && !p.status.hasBackup)
    }

    @Test func aSecondBackupIsRefusedWhileTheFirstIsAlive() throws {
        let (p, _, addresses) = try primary()
        defer { p.shutdown() }
        let (first, _) = backup(addresses, id: "B1")
        defer { first.shutdown() }
        #expect(eventually { p.status.joinRequested })
        p.sendSnapshot([9], generation: 1)
        #expect(eventually { first.takeInitialState() != nil })
        let (second, _) = backup(addresses, id: "B2")
        defer { second.shutdown() }
        #expect(eventually { second.refusedReason != nil })
        #expect(second.refusedReason?.contains("already has a backup") == true)
    }

    @Test func eachSideDeclaresTheOtherLostOnlyAfterTotalSilence() throws {
        let (p, pBell, addresses) = try primary()
        defer { p.shutdown() }
        let (b, _) = backup(addresses)
        #expect(eventually { p.status.joinRequested })
        p.sendSnapshot([1], generation: 1)
        #expect(eventually { b.takeInitialState() != nil })
        let ticket = pBell.ticket
        b.shutdown()   // the backup disappears
        #expect(eventually { p.status.backupLost })
        // The doorbell rings just after the status changes (outside the link's lock).
        #expect(eventually { pBell.ticket != ticket })
        // And the other way round: a backup whose primary vanishes.
        let (p2, _, addresses2) = try primary()
        let (b2, _) = backup(addresses2)
        defer { b2.shutdown() }
        #expect(eventually { p2.status.joinRequested })
        p2.sendSnapshot([1], generation: 1)
        #expect(eventually { b2.takeInitialState() != nil })
        #expect(!b2.isPrimaryLost)
        p2.shutdown()
        #expect(eventually { b2.isPrimaryLost })
    }
}
