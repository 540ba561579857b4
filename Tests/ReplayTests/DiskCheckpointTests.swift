import Foundation
import Machine
import Replay
import Testing

/// Checkpoints cover the disks: each disk's content digest is part of the state digest a follower
/// (a replicated backup, a replay) compares, so a disk that came to differ from its peer's is found
/// at the next checkpoint and named by its place ("disk 2 of 2"); a log of format 4, whose
/// checkpoints do not cover the disks, still replays. The guest is guests/bare/virtio: on the
/// first disk it reads sectors 1-2, writes sector 5 and reads it back, and flushes.
@Suite struct DiskCheckpointTests {
    /// Byte i is (i * 7 + 3) & 0xff, 64 sectors: what the guest expects on its disk.
    static let image: [UInt8] = (0..<64 * 512).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    /// A second disk, which the guest never touches.
    static let second: [UInt8] = (0..<32 * 512).map { UInt8(truncatingIfNeeded: $0 &* 13) }

    static func machine(_ disks: [MemoryBlockStorage]) throws -> Machine {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20, entropySeed: 1), disks: disks)
        try machine.load(elfAt: root.appendingPathComponent("guests/out/virtio.elf").path)
        return machine
    }

    /// `contents` with one byte changed at `offset`: another disk of the same size.
    static func changed(_ contents: [UInt8], at offset: Int) -> [UInt8] {
        var bytes = contents
        bytes[offset] ^= 0x5A
        return bytes
    }

    /// The guest's run on disks holding `contents`, recorded by the live runner with a checkpoint
    /// every 2,000 instructions, to its exit.
    static func record(_ contents: [[UInt8]]) throws -> (records: [JournalRecord], machine: Machine, outputs: OutputDigest) {
        let journal = LiveRunnerTests.ListJournal()
        var settings = LiveRunner.Settings()
        settings.idlesInRealTime = false
        settings.checkpointInterval = 2_000
        settings.slice = 700
        let machine = try machine(contents.map { MemoryBlockStorage(contents: $0) })
        let runner = LiveRunner(machine: machine, journal: journal, outputs: LiveRunnerTests.Outputs(), settings: settings, clock: { 0 })
        var stop: Machine.StopReason?
        while stop == nil { if case .stopped(let reason) = try runner.step() { stop = reason } }
        #expect(stop == .exited(code: 0))
        return (journal.records, machine, runner.outputDigest)
    }

    static func checkpoints(_ records: [JournalRecord]) -> [Checkpoint] {
        records.compactMap { if case .checkpoint(let checkpoint) = $0 { checkpoint } else { nil } }
    }

    /// Follows `records` on `follower`; the divergence, if any.
    static func follow(_ records: [JournalRecord], on follower: Follower) -> Divergence? {
        do {
            for record in records { try follower.take(record) }
            return nil
        } catch {
            return error
        }
    }

    @Test func checkpointsCarryEveryDisksDigest() throws {
        let (records, machine, _) = try Self.record([Self.image, Self.second])
        let checkpoints = Self.checkpoints(records)
        #expect(checkpoints.count >= 3)
        for checkpoint in checkpoints { #expect(checkpoint.state.disks?.count == 2) }
        // The guest wrote sector 5 of the first disk: its digest moved, the second's did not.
        #expect(checkpoints.first?.state.disks?[0] != checkpoints.last?.state.disks?[0])
        #expect(checkpoints.first?.state.disks?[1] == checkpoints.last?.state.disks?[1])
        let digests = try machine.disks.map { try $0.contentDigest() }
        #expect(machine.stateDigest().disks == digests)
    }

    /// Copies equal to the recorded disks follow every checkpoint; a copy of the same size with
    /// one byte changed, in a sector the guest never reads, is found at the first checkpoint,
    /// named by its place, and nothing else is said to differ.
    @Test(arguments: [0, 1])
    func aDiskThatDiffersIsNamedAtTheFirstCheckpoint(place: Int) throws {
        let disks = [Self.image, Self.second]
        let (records, _, _) = try Self.record(disks)
        let equal = Follower(machine: try Self.machine(disks.map { MemoryBlockStorage(contents: $0) }))
        #expect(Self.follow(records, on: equal) == nil)
        #expect(equal.checkpointsMatched == Self.checkpoints(records).count)

        var other = disks
        other[place] = Self.changed(other[place], at: 20 * 512 + 7)
        let follower = Follower(machine: try Self.machine(other.map { MemoryBlockStorage(contents: $0) }))
        let divergence = Self.follow(records, on: follower)
        guard case .stateDiffers(let difference, _)? = divergence else {
            Issue.record("a disk that differs was not found: \(String(describing: divergence))")
            return
        }
        #expect(difference.instructionCount == Self.checkpoints(records).first?.instructionCount)
        #expect(difference.parts == ["disk \(place + 1) of 2"])
        #expect(difference.ramRanges.isEmpty)
        #expect(divergence?.description.contains("the state differs in disk \(place + 1) of 2") == true)
    }

    /// A backup's disk written behind its guest's back after following began (a host-side error,
    /// a bug): the digest is kept up to date from what the storage holds where the guest writes,
    /// so the write of sector 5 takes in the changed sector 6 beside it (one 4 KiB chunk), and the
    /// next checkpoint names the disk; the checkpoints before it matched.
    @Test func aDiskThatDriftsWhileFollowingIsFoundAtTheNextCheckpoint() throws {
        let (records, _, _) = try Self.record([Self.image])
        let storage = MemoryBlockStorage(contents: Self.image)
        let follower = Follower(machine: try Self.machine([storage]))
        let first = records.firstIndex { if case .checkpoint = $0 { true } else { false } }!
        for record in records[...first] { try follower.take(record) }
        #expect(follower.checkpointsMatched == 1)
        // The guest has not written its disk yet.
        #expect(try storage.readSectors(at: 5, count: 1) == Array(Self.image[(5 * 512)..<(6 * 512)]))
        try storage.writeSectors(at: 6, [UInt8](repeating: 0xEE, count: 512))

        let divergence = Self.follow(Array(records[(first + 1)...]), on: follower)
        guard case .stateDiffers(let difference, let lastMatch)? = divergence else {
            Issue.record("a disk that drifted was not found: \(String(describing: divergence))")
            return
        }
        #expect(difference.parts == ["disk 1 of 1"])
        #expect(difference.ramRanges.isEmpty)
        #expect(lastMatch < difference.instructionCount)
    }

    /// The session as `lockstep run --record` would log it.
    static func eventLog(_ contents: [UInt8]) throws -> EventLog {
        let initial = try Self.machine([MemoryBlockStorage(contents: contents)]).stateHash()
        let (records, machine, outputs) = try Self.record([contents])
        let session = SessionDescription(configuration: machine.configuration, boot: .elf(path: "guests/out/virtio.elf", hash: 0),
                                         disks: [.init(path: "disk.img", byteCount: UInt64(contents.count), hash: SessionDescription.contentHash(contents))],
                                         initialStateHash: initial)
        var logged: [LogRecord] = []
        for record in records {
            switch record {
            case .input(let event): logged.append(.event(event))
            case .checkpoint(let checkpoint): logged.append(.checkpoint(checkpoint))
            case .progress: break
            }
        }
        logged.append(.end(SessionEnd(instructionCount: machine.instructionCount, stateHash: machine.stateHash(),
                                      outputByteCount: outputs.byteCount, outputHash: outputs.value, stop: .exited(code: 0))))
        return EventLog(session: session, records: logged)
    }

    /// A log recorded before checkpoints covered the disks (format 4) replays on a machine with its
    /// disk: its checkpoints are compared without the disk part, and the end record's state hash
    /// still covers the disk. The same session in the current format replays too.
    @Test func aFormat4LogWithADiskStillReplays() throws {
        let log = try Self.eventLog(Self.image)
        let old = try EventLog(bytes: LegacyEventLog.format4(log))
        let oldCheckpoints = old.records.compactMap { if case .checkpoint(let c) = $0 { c } else { nil } }
        #expect(oldCheckpoints.count >= 3)
        #expect(oldCheckpoints.allSatisfy { $0.state.disks == nil })
        let result = try Replayer.replay(old, on: try Self.machine([MemoryBlockStorage(contents: Self.image)]))
        #expect(result.hashesMatched == oldCheckpoints.count + 1)

        let current = try EventLog(bytes: log.encoded())
        #expect(current == log)
        let checkpoints = current.records.compactMap { if case .checkpoint(let c) = $0 { c } else { nil } }
        #expect(checkpoints.allSatisfy { $0.state.disks?.count == 1 })
        let again = try Replayer.replay(current, on: try Self.machine([MemoryBlockStorage(contents: Self.image)]))
        #expect(again.hashesMatched == checkpoints.count + 1)
        #expect(again.stateHash == result.stateHash)
    }

    /// A disk that counts the sectors read from it.
    final class CountingStorage: BlockStorage {
        let inner: MemoryBlockStorage
        var sectorsRead = 0
        init(_ inner: MemoryBlockStorage) { self.inner = inner }
        var sectorCount: UInt64 { inner.sectorCount }
        var isReadOnly: Bool { inner.isReadOnly }
        func readSectors(at sector: UInt64, count: Int) throws(BlockStorageError) -> [UInt8] {
            sectorsRead += count
            return try inner.readSectors(at: sector, count: count)
        }
        func writeSectors(at sector: UInt64, _ data: [UInt8]) throws(BlockStorageError) { try inner.writeSectors(at: sector, data) }
        func flush() throws(BlockStorageError) { try inner.flush() }
    }

    /// The first checkpoint reads every disk whole; a run nobody follows (an unrecorded
    /// `lockstep run`, ``DiscardingJournal``) takes no checkpoints, so it never does.
    @Test(arguments: [false, true])
    func onlyAFollowedRunReadsItsDisksForCheckpoints(followed: Bool) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let storage = CountingStorage(MemoryBlockStorage(contents: Self.image))
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 2 << 20), disk: storage)
        try machine.load(elfAt: root.appendingPathComponent("guests/out/hello.elf").path)
        var settings = LiveRunner.Settings()
        settings.idlesInRealTime = false
        settings.checkpointInterval = 100
        settings.slice = 50
        let journal = LiveRunnerTests.ListJournal()
        let runner = LiveRunner(machine: machine, journal: followed ? journal : DiscardingJournal(),
                                outputs: LiveRunnerTests.Outputs(), settings: settings, clock: { 0 })
        var stop: Machine.StopReason?
        while stop == nil { if case .stopped(let reason) = try runner.step() { stop = reason } }
        #expect(stop == .exited(code: 0))
        #expect(storage.sectorsRead == (followed ? 64 : 0))
        if followed { #expect(!Self.checkpoints(journal.records).isEmpty) }
    }
}
