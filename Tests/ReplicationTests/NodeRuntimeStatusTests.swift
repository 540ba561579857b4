import Foundation
import Machine
import Replay
@testable import Replication
import Testing

/// What a node says about itself (``NodeRuntimeStatus``): assembled from known link, gate and
/// copy states, the channel's per-line counters and lag, and the file it is kept in.
@Suite struct NodeRuntimeStatusTests {
    static func linkStatus(hasBackup: Bool = true, joinRequested: Bool = false) -> PrimaryLink.Status {
        var status = PrimaryLink.Status(lastSequence: 90, acknowledged: 85, backupExecuted: 4_000, hasBackup: hasBackup, backupLost: false,
                                        joinRequested: joinRequested, retainedEntries: 5, sentEntries: 90, sentBytes: 12_345)
        status.oldestUnacknowledgedAge = 0.25
        status.lines = [PrimaryLink.LineTraffic(line: 1, entries: 90, bytes: 12_345), PrimaryLink.LineTraffic(line: 2, entries: 88, bytes: 12_000)]
        return status
    }

    static func primary(_ link: PrimaryLink.Status, copy: NodeRuntimeStatus.Copy? = nil) -> NodeRuntimeStatus {
        NodeRuntimeStatus.primary(NodeRuntimeStatus.PrimaryState(
            vm: "kv", node: "A", generation: 3, instructionCount: 5_500, link: link,
            outputs: NodeRuntimeStatus.Outputs(count: 2, bytes: 40, oldestSince: 99.5), copy: copy, switchoverPauseSeconds: nil,
            now: 100, wallClock: 1_700_000_000))
    }

    @Test func aPrimaryWithABackupSaysHowFarBehindItIsWhatEachLineCarriedAndWhatItHolds() {
        let status = Self.primary(Self.linkStatus())
        #expect(status.role == .primary && status.live)
        #expect(status.generation == 3 && status.instructionCount == 5_500)
        #expect(status.lagInstructions == 1_500)
        #expect(status.lagSeconds == 0.25)
        #expect(status.backupExecuted == 4_000 && status.acknowledgedSequence == 85 && status.lastSequence == 90)
        #expect(status.lines.map(\.bytes) == [12_345, 12_000])
        #expect(status.logEntriesSent == 90 && status.logBytesSent == 12_345)
        #expect(status.outputsHeld == 2 && status.outputBytesHeld == 40 && status.oldestOutputSeconds == 0.5)
        #expect(status.updated == 1_700_000_000)
    }

    @Test func aPrimaryAloneHasNoLagAndOneServingAJoinIsCopying() {
        let alone = Self.primary(Self.linkStatus(hasBackup: false))
        #expect(alone.role == .primaryAlone && alone.live)
        #expect(alone.lagInstructions == nil && alone.lagSeconds == nil && alone.backupExecuted == nil)
        let copy = NodeRuntimeStatus.Copy(side: .sending, phase: .memory, bytesDone: 42, bytesTotal: 100)
        let copying = Self.primary(Self.linkStatus(hasBackup: false, joinRequested: true), copy: copy)
        #expect(copying.role == .copying && copying.live)
        #expect(copying.copy?.progress == 0.42)
    }

    @Test func aBackupIsJoiningThenCopyingThenFollowing() {
        let joining = NodeRuntimeStatus.backup(vm: "kv", node: "B", generation: 0, instructionCount: nil, copy: nil, wallClock: 1)
        #expect(joining.role == .joining && !joining.live)
        let copy = NodeRuntimeStatus.Copy(side: .receiving, phase: .disk, bytesDone: 8192, bytesTotal: nil, progress: 0.5)
        let copying = NodeRuntimeStatus.backup(vm: "kv", node: "B", generation: 0, instructionCount: nil, copy: copy, wallClock: 1)
        #expect(copying.role == .copying && copying.copy?.progress == 0.5)
        let following = NodeRuntimeStatus.backup(vm: "kv", node: "B", generation: 2, instructionCount: 77, copy: copy, wallClock: 1)
        #expect(following.role == .backup && following.instructionCount == 77 && following.copy == nil)
    }

    @Test func aCopysProgressIsCappedAndAnEmptyCopyIsDone() {
        #expect(NodeRuntimeStatus.Copy(side: .sending, phase: .final, bytesDone: 150, bytesTotal: 100).progress == 1)
        #expect(NodeRuntimeStatus.Copy(side: .sending, phase: .final, bytesDone: 0, bytesTotal: 0).progress == 1)
        #expect(NodeRuntimeStatus.Copy(side: .receiving, phase: .memory, bytesDone: 4096, bytesTotal: nil).progress == nil)
    }

    @Test func theChannelCountsEachLinesFramesAndTheAgeOfTheOldestUnacknowledgedEntry() {
        var pump = ChannelPump()
        pump.synchronised()
        let afterJoin = pump.status.lines
        #expect(afterJoin.map(\.line) == [1, 2] || afterJoin.map(\.line) == [1] || afterJoin.map(\.line) == [2], "\(afterJoin)")
        #expect(afterJoin.allSatisfy { $0.entries == 0 })
        for i in 1...10 { pump.append(.progress(instructionCount: UInt64(10 * i))) }
        pump.run()
        #expect(pump.status.lines.map(\.entries) == [10, 10], "\(pump.status.lines)")
        let entryBytes = UInt64(ReplicationFrameCodec.frameSize(.entry(sequence: 2, .progress(instructionCount: 10))))
        #expect(pump.status.lines.allSatisfy { $0.bytes >= 10 * entryBytes })
        #expect(pump.status.oldestUnacknowledgedAge == nil, "all acknowledged")

        pump.dropToPrimary = [0, 1]   // the acknowledgements are lost for a while
        let sent = pump.now
        pump.append(.progress(instructionCount: 500))
        pump.run()
        pump.now = sent + 0.125
        #expect(pump.status.oldestUnacknowledgedAge == 0.125)
        pump.append(.progress(instructionCount: 600))
        pump.now = sent + 0.25
        #expect(pump.status.oldestUnacknowledgedAge == 0.25, "the oldest entry counts, not the newest")

        pump.dropToPrimary = []
        pump.advance(by: 2 * ChannelPump.heartbeat.interval)
        #expect(pump.status.oldestUnacknowledgedAge == nil)
        #expect(pump.status.lines.map(\.entries) == [12, 12])
    }

    @Test func theGateKnowsHowLongItsOldestOutputHasWaited() {
        var gate = OutputGate()
        #expect(gate.oldestSince == nil && gate.count == 0)
        gate.hold(.console([1]), after: 3, at: 10)
        gate.hold(.console([2]), after: 3, at: 11)   // joins the first: keeps its time
        gate.hold(.networkFrame([9]), after: 4, at: 12)
        #expect(gate.count == 2 && gate.oldestSince == 10)
        let out = gate.release(acknowledged: 3)
        #expect(out == [.console([1, 2])] && gate.oldestSince == 12)
        gate.putBack(out, after: 3, since: 10)
        #expect(gate.oldestSince == 10 && gate.count == 2)
    }

    @Test func theStatusFileIsReplacedWholeOnARoleChangeOrAfterHalfASecond() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("status-file-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("kv.status.json").path
        let file = NodeStatusFile(path: path)
        #expect(NodeStatusFile.read(path: path) == nil)
        var status = NodeRuntimeStatus(vm: "kv", node: "B", role: .joining, updated: 1)
        file.offer(status, now: 50)
        #expect(NodeStatusFile.read(path: path) == status)
        status.updated = 2
        file.offer(status, now: 50.2)
        #expect(NodeStatusFile.read(path: path)?.updated == 1, "the same role within 0.5 s is not written again")
        status.role = .copying
        file.offer(status, now: 50.3)
        #expect(NodeStatusFile.read(path: path)?.role == .copying, "a role change is written at once")
        status.updated = 3
        file.offer(status, now: 50.8)
        #expect(NodeStatusFile.read(path: path)?.updated == 3)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"), "written beside it, then renamed")
    }
}

/// A primary's live copy says how far it is (``LiveCopySender/progress``): the first round's
/// pages, each counted once.
@Suite struct LiveCopyProgressTests {
    /// Takes every message; says nothing else.
    final class Sink: PrimaryLogChannel {
        var status: PrimaryLink.Status {
            PrimaryLink.Status(lastSequence: 0, acknowledged: 0, backupExecuted: 0, hasBackup: false, backupLost: false,
                               joinRequested: true, retainedEntries: 0, sentEntries: 0, sentBytes: 0)
        }
        var pages = 0
        func append(_ entry: LogEntry) -> UInt64 { 0 }
        func sendSnapshot(_ snapshot: [UInt8], generation: UInt64) -> Bool { true }
        func sendDiskMessages(_ messages: [ReplicationMessage]) -> Bool {
            for case .ramPages(let indices, _, _) in messages { pages += indices.count }
            return true
        }
        func forgetBackup() {}
        var onAcknowledged: (() -> Void)?
    }

    @Test func theCopyGoesFromNothingToEverythingThroughTheMemoryPhase() throws {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 1 << 20))
        let written = Array(0..<100)
        try machine.writeRAMPages(written, [UInt8](repeating: 0x5A, count: written.count * 4096))
        let sink = Sink()
        // 64 pages (one message) per 0.1 s: the first step sends one batch.
        let sender = LiveCopySender(join: 1, machine: machine, link: sink, disks: [], diskCopy: nil, bytesPerSecond: 64 * 4096 * 10,
                                    log: NodeLog(nodeID: "A", sink: { _ in }), now: 0)
        let start = sender.progress
        #expect(start == NodeRuntimeStatus.Copy(side: .sending, phase: .memory, bytesDone: 0, bytesTotal: 100 * 4096))
        #expect(start.progress == 0)
        #expect(sender.step(now: 0))
        #expect(sender.progress.bytesDone == 64 * 4096 && sender.progress.phase == .memory)
        #expect(sender.progress.progress == 0.64)
        #expect(sender.step(now: 1))
        #expect(sink.pages == 100)
        #expect(sender.progress.phase == .final && sender.progress.progress == 1)
        sender.abandon()
    }
}
