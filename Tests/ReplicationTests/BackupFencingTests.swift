import LockstepSupport
@_spi(Simulation) @testable import Replication
import Testing

/// The generation is a fencing epoch: a joining backup that knew the VM at generation G (from the
/// arbiter) refuses a primary whose copy or state carries an older generation, before it takes
/// anything from it (a disk plan is refused before the disk is touched).
@Suite struct BackupFencingTests {
    final class ScriptedChannel: BackupLogChannel {
        var state: BackupLink.InitialState?
        var transfers: [CopyTransfer] = []
        func takeInitialState() -> BackupLink.InitialState? { defer { state = nil }; return state }
        func takeEntries() -> [LogEntry] { [] }
        func noteExecuted(_ count: UInt64) {}
        var isPrimaryLost: Bool { false }
        var refusedReason: String? { nil }
        func takeCopyTransfers() -> [CopyTransfer] { defer { transfers = [] }; return transfers }
    }

    static func role(_ channel: ScriptedChannel, fence: UInt64) -> BackupRole {
        let configuration = NodeConfiguration(vm: "kv", nodeID: "b", key: [1], listen: [], peers: [], console: Endpoint(host: "127.0.0.1", port: 0))
        return BackupRole(configuration: configuration, link: channel, log: NodeLog(nodeID: "b", sink: { _ in }), clock: { 0 }, fence: fence)
    }

    static func refusal(_ step: BackupRole.Step) -> String? {
        if case .stopped(.refused(let reason)) = step { return reason }
        return nil
    }

    @Test func aStateFromAnOlderGenerationIsRefused() {
        let channel = ScriptedChannel()
        channel.state = BackupLink.InitialState(snapshot: [1, 2, 3], generation: 2)
        let reason = Self.refusal(Self.role(channel, fence: 3).step())
        #expect(reason?.contains("fenced") == true, "\(String(describing: reason))")
        #expect(reason?.contains("generation 2") == true)
    }

    @Test func aStateOfTheKnownGenerationIsNotFenced() {
        // The same bytes at the generation the node knew: refused for what they are (not a
        // snapshot), not for their generation.
        let channel = ScriptedChannel()
        channel.state = BackupLink.InitialState(snapshot: [1, 2, 3], generation: 3)
        let reason = Self.refusal(Self.role(channel, fence: 3).step())
        #expect(reason != nil)
        #expect(reason?.contains("fenced") == false, "\(String(describing: reason))")
    }

    @Test func aCopyPlanFromAnOlderGenerationIsRefusedFirst() {
        let channel = ScriptedChannel()
        channel.transfers = [.plan(generation: 1, disks: [DiskCopyPlan(instance: Array(repeating: 7, count: 16), full: true, extents: 4)]),
                             .extent(disk: 0, index: 0, compressed: false, bytes: [])]
        let reason = Self.refusal(Self.role(channel, fence: 2).step())
        #expect(reason?.contains("fenced") == true, "\(String(describing: reason))")
    }
}

/// The backup side of a planned switchover: a handover counts only once every entry before it
/// arrived, and a handover before the initial state is a protocol error.
@Suite struct HandoverChannelTests {
    static let heartbeat = HeartbeatSettings(interval: 0.05, timeout: 0.4)

    @Test func aHandoverWaitsForTheEntriesBeforeIt() {
        var backup = BackupChannel(peers: ["p:1"], heartbeat: Self.heartbeat, now: 0)
        _ = backup.tick(now: 0)
        let line = LineID(index: 0, connection: 1)
        _ = backup.lineAuthenticated(line, peerNodeID: "P", now: 0.01)
        #expect(backup.received(.handover(lastSequence: 6, instructionCount: 500), on: line, now: 0.015)
                == [.log("closing line 1: a handover before the initial state"), .close(line)])
        let again = LineID(index: 0, connection: 2)
        _ = backup.lineAuthenticated(again, peerNodeID: "P", now: 0.02)
        _ = backup.received(.snapshotChunk(generation: 1, startSequence: 5, offset: 0, total: 1, bytes: [1]), on: again, now: 0.02)
        _ = backup.received(.handover(lastSequence: 6, instructionCount: 500), on: again, now: 0.03)
        #expect(backup.handover == nil, "taken before entries 5 and 6 arrived")
        _ = backup.received(.entry(sequence: 5, .progress(instructionCount: 100)), on: again, now: 0.04)
        #expect(backup.handover == nil)
        _ = backup.received(.entry(sequence: 6, .progress(instructionCount: 500)), on: again, now: 0.05)
        #expect(backup.handover == 500)
    }
}
