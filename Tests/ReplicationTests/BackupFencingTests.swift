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
