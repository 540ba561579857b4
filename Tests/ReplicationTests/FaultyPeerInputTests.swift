import NIOCore
import NIOEmbedded
import NIOPosix
import Replay
@testable import Replication
import Testing

/// What an authenticated but faulty primary sends must close the line, never trap the backup:
/// sequence numbers that leave no room to count on.
@Suite struct BackupLinkInputTests {
    /// A backup that is not started (no timer, no connections) with one line on an embedded
    /// channel, so that the test drives it message by message on its own thread.
    func joinedBackup() throws -> (BackupLink, Line, EmbeddedChannel) {
        let link = BackupLink(authentication: PeerAuthentication(key: Array("k".utf8), vm: "kv", nodeID: "B"),
                              heartbeat: HeartbeatSettings(interval: 0.02, timeout: 0.2), doorbell: Doorbell(),
                              log: NodeLog(nodeID: "B"), group: MultiThreadedEventLoopGroup.singleton, peers: [])
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let line = Line(index: 0, channel: channel)
        link.lineAuthenticated(line)
        return (link, line, channel)
    }

    @Test(arguments: [UInt64(0), .max])
    func anInitialStateWithAnImpossibleStartSequenceIsRefused(start: UInt64) throws {
        let (link, line, channel) = try joinedBackup()
        link.line(line, received: .snapshotChunk(generation: 1, startSequence: start, offset: 0, total: 3, bytes: [1, 2, 3]))
        #expect(link.takeInitialState() == nil)
        #expect(!channel.isActive, "the line stays open after a start sequence of \(start)")
        // What follows on that line is ignored (before the check, an entry numbered UInt64.max
        // overflowed the next number: a trap).
        link.line(line, received: .entry(sequence: start, .progress(instructionCount: 1)))
        link.lineReadComplete(line)
        #expect(link.takeEntries().isEmpty)
        link.shutdown()
    }

    /// The check refuses only the impossible: a start of 1 (a log from its first entry) and a
    /// large start are taken.
    @Test(arguments: [UInt64(1), UInt64.max - 1])
    func anInitialStateWithAPossibleStartSequenceIsTaken(start: UInt64) throws {
        let (link, line, channel) = try joinedBackup()
        link.line(line, received: .snapshotChunk(generation: 1, startSequence: start, offset: 0, total: 3, bytes: [1, 2, 3]))
        #expect(link.takeInitialState()?.snapshot == [1, 2, 3])
        #expect(channel.isActive)
        link.line(line, received: .entry(sequence: start, .progress(instructionCount: 1)))
        #expect(link.takeEntries() == [.progress(instructionCount: 1)])
        link.shutdown()
    }
}

/// What a faulty backup sends must not stall the primary: an echo of a time the primary never sent.
@Suite struct PrimaryLinkInputTests {
    @Test func anEchoFromTheFutureDoesNotHideTheTrueOnes() throws {
        let link = PrimaryLink(authentication: PeerAuthentication(key: Array("k".utf8), vm: "kv", nodeID: "P"),
                               heartbeat: HeartbeatSettings(interval: 0.02, timeout: 0.2), doorbell: Doorbell(),
                               log: NodeLog(nodeID: "P"), group: MultiThreadedEventLoopGroup.singleton)
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let line = Line(index: 0, channel: channel)
        line.peer = Hello(vm: "kv", nodeID: "B", nonce: Array(repeating: 0, count: 16))
        link.lineAuthenticated(line)
        link.line(line, received: .heartbeat(time: PrimaryLink.nanoseconds() + 3_600_000_000_000))
        link.line(line, received: .heartbeat(time: PrimaryLink.nanoseconds()))
        #expect(link.status.leaseValid, "a true echo right after one from an hour ahead did not renew the lease")
        link.shutdown()
    }
}
