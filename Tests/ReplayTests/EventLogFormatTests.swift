import Machine
import Testing
@testable import Replay

/// The event-log format: round trips, and damaged, truncated or foreign input giving typed errors
/// that name the offset, never a crash.
@Suite struct EventLogFormatTests {
    static let session = SessionDescription(
        configuration: MachineConfiguration(memorySize: 64 << 20, instructionsPerTick: 50, entropySeed: 0xDEAD_BEEF),
        boot: .linux(kernelPath: "/k/Image", kernelHash: 1, initrdPath: "/k/initrd", initrdHash: 2, commandLine: "console=ttyS0"),
        disks: [.init(path: "/d.img", byteCount: 4096, hash: 3), .init(path: "/e.img", byteCount: 8192, hash: 4)],
        initialStateHash: 0x1234)

    static let records: [LogRecord] = [
        .event(Event(instructionCount: 10, input: .consoleBytes(Array("ls\n".utf8)))),
        .event(Event(instructionCount: 10, input: .timeAdvance(ticks: 99))),
        .checkpoint(Checkpoint(state: StateDigest(instructionCount: 1_000, parts: [.init(name: "registers", hash: 0xABCD)],
                                               regionSize: 4096, ramBase: 0x8000_0000, regions: [1, 2, 3], disks: [0xD15C, 0xD15D]),
                            outputs: OutputDigest(outputCount: 2, byteCount: 7, value: 0x99))),
        // A checkpoint read from a format-4 log (not covering the disks) keeps saying so in later formats.
        .checkpoint(Checkpoint(state: StateDigest(instructionCount: 1_500, parts: [.init(name: "registers", hash: 0xABCE)],
                                               regionSize: 4096, ramBase: 0x8000_0000, regions: [4], disks: nil),
                            outputs: OutputDigest(outputCount: 2, byteCount: 7, value: 0x99))),
        .event(Event(instructionCount: 2_000, input: .networkFrame([1, 2, 3, 4]))),
        .event(Event(instructionCount: 2_500, input: .networkAnnounce)),
        .event(Event(instructionCount: 2_600, input: .reboot)),
        .end(SessionEnd(instructionCount: 3_000, stateHash: 0x77, outputByteCount: 5, outputHash: 0x55, stop: .exited(code: 3))),
    ]

    static var bytes: [UInt8] { EventLog(session: session, records: records).encoded() }

    @Test func roundTrips() throws {
        let log = try EventLog(bytes: Self.bytes)
        #expect(log.session == Self.session)
        #expect(log.records == Self.records)
        #expect(log.end?.stop == .exited(code: 3))
        let elf = SessionDescription(configuration: MachineConfiguration(), boot: .elf(path: "p.elf", hash: 9), disks: [], initialStateHash: 1)
        let other = EventLog(session: elf, records: [.end(SessionEnd(instructionCount: 0, stateHash: 0, outputByteCount: 0, outputHash: 0, stop: .stoppedByHost))])
        #expect(try EventLog(bytes: other.encoded()) == other)
    }

    /// A log of format 3 (at most one disk: a presence flag where format 4 has a count) still
    /// reads, with its disk.
    @Test func aFormat3LogStillReads() throws {
        for disks in [[], [SessionDescription.Disk(path: "/d.img", byteCount: 4096, hash: 3)]] {
            var session = Self.session
            session.disks = disks
            var none = session
            none.disks = []
            let prefix = LegacyEventLog.sessionBytes(none).dropLast(12)   // the disk count (u32 0) and the initial hash
            var header = ByteWriter()
            header.bytes = Array(prefix)
            header.u8(disks.isEmpty ? 0 : 1)
            for disk in disks {
                header.string(disk.path)
                header.u64(disk.byteCount)
                header.u64(disk.hash)
            }
            header.u64(session.initialStateHash)
            var w = ByteWriter()
            w.bytes = EventLogFormat.magic
            w.u16(3)
            w.data(header.bytes)
            w.u32(CRC32.checksum(header.bytes[...]))
            for record in Self.records { w.bytes += LegacyEventLog.recordBytes(record) }
            let log = try EventLog(bytes: w.bytes)
            #expect(log.session == session && log.records == Self.records.map(LegacyEventLog.asRead))
        }
        // Format 4 refuses more disks than a machine has.
        var many = Self.session
        many.disks = Array(repeating: .init(path: "/d.img", byteCount: 4096, hash: 3), count: 5)
        #expect(throws: EventLogError.self) { try EventLog(bytes: EventLog(session: many, records: Self.records).encoded()) }
    }

    /// The session's MAC address (format 6) survives the round trip; a log of format 5 (no MAC
    /// address) reads with QEMU's default, which every machine had then.
    @Test func theMACAddressIsRecordedAndAFormat5LogReadsWithTheDefault() throws {
        var session = Self.session
        session.configuration.mac = [0x02, 0x00, 0x00, 0xAA, 0xBB, 0xCC]
        let log = EventLog(session: session, records: Self.records)
        #expect(try EventLog(bytes: log.encoded()) == log)
        #expect(log.encoded().count == Self.bytes.count, "6 bytes of MAC address either way")

        let old = try EventLog(bytes: LegacyEventLog.format5(EventLog(session: Self.session, records: Self.records)))
        #expect(old.session == Self.session && old.session.configuration.mac == VirtioNetwork.defaultMAC)
        #expect(old.records == Self.records)
        // Read as format 6, the same bytes lack the address: refused, not misread.
        var misread = LegacyEventLog.format5(EventLog(session: Self.session, records: Self.records))
        misread[8] = 6
        #expect(throws: EventLogError.self) { try EventLog(bytes: misread) }
    }

    /// A log of format 4 still reads: its checkpoints end after the output digest and do not
    /// cover the disks (nil, so that a replay does not compare them), and it is written again
    /// as format 6 with the same values.
    @Test func aFormat4LogStillReads() throws {
        let log = try EventLog(bytes: LegacyEventLog.format4(EventLog(session: Self.session, records: Self.records)))
        #expect(log.session == Self.session)
        #expect(log.records == Self.records.map(LegacyEventLog.asRead))
        #expect(log.records.contains { if case .checkpoint(let c) = $0 { c.state.disks == nil } else { false } })
        #expect(try EventLog(bytes: log.encoded()) == log)
        // Read as format 5, the same bytes lack the disk part: refused, not misread.
        var misread = LegacyEventLog.format4(EventLog(session: Self.session, records: Self.records))
        misread[8] = 5
        #expect(throws: EventLogError.self) { try EventLog(bytes: misread) }
    }

    /// A checkpoint's disk part: a flag of 0 or 1 only, at most as many disks as a machine has.
    @Test func aCheckpointsDiskPartIsChecked() throws {
        guard case .checkpoint(let checkpoint) = Self.records[2] else { Issue.record("no checkpoint"); return }
        let bytes = checkpoint.encoded()
        #expect(try Checkpoint(decoding: bytes) == checkpoint)
        let flag = bytes.count - 1 - 4 - 8 * 2
        var other = bytes
        other[flag] = 2
        #expect(throws: EventLogError.malformed(offset: flag, what: "a checkpoint's disk part flag is 2 (0 or 1)")) { try Checkpoint(decoding: other) }
        var five = checkpoint
        five.state.disks = [1, 2, 3, 4, 5]
        #expect(throws: EventLogError.self) { try Checkpoint(decoding: five.encoded()) }
        #expect(throws: EventLogError.self) { try Checkpoint(decoding: Array(bytes.dropLast())) }
    }

    @Test func foreignFilesAreRefused() {
        #expect(throws: EventLogError.notAnEventLog) { try EventLog(bytes: Array("#!/bin/sh\necho hi\n".utf8)) }
        #expect(throws: EventLogError.notAnEventLog) { try EventLog(bytes: []) }
        var future = Self.bytes
        future[8] = 9   // version 9
        #expect(throws: EventLogError.unsupportedVersion(9)) { try EventLog(bytes: future) }
        var next = Self.bytes
        next[8] = 7   // the version after this build's
        #expect(throws: EventLogError.unsupportedVersion(7)) { try EventLog(bytes: next) }
        #expect(EventLogError.unsupportedVersion(7).description
            == "event log format version 7 is not supported by this Lockstep (it reads versions 3 to 6); replay it with the Lockstep that recorded it")
        var older = Self.bytes
        older[8] = 2   // version 2: no reboot input, and its state hashes cover less
        #expect(throws: EventLogError.unsupportedVersion(2)) { try EventLog(bytes: older) }
        #expect(EventLogError.unsupportedVersion(2).description.contains("record the session again"))
    }

    @Test func truncationIsReportedWithItsOffset() {
        let bytes = Self.bytes
        for cut in stride(from: 8, to: bytes.count, by: 1) {
            do {
                _ = try EventLog(bytes: Array(bytes[0..<cut]))
                Issue.record("a log cut at \(cut) of \(bytes.count) bytes was accepted")
            } catch {
                switch error {
                case .truncated(let offset, _), .missingEnd(let offset): #expect(offset <= cut)
                default: Issue.record("cut at \(cut): unexpected \(error)")
                }
            }
        }
    }

    @Test func everyFlippedByteIsCaught() {
        let bytes = Self.bytes
        var generator = SplitMix(seed: 42)
        for position in 0..<bytes.count {
            var damaged = bytes
            damaged[position] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            // Any single-byte change is detected (magic, version, lengths, CRCs cover everything).
            #expect(throws: EventLogError.self, "flip at \(position) accepted") { try EventLog(bytes: damaged) }
        }
    }

    @Test func randomDamageNeverCrashes() {
        var generator = SplitMix(seed: 7)
        let bytes = Self.bytes
        for _ in 0..<2_000 {
            var damaged = bytes
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(damaged.count))
                damaged[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 3 == 0 { damaged.removeLast(Int(generator.next() % UInt64(damaged.count))) }
            _ = try? EventLog(bytes: damaged)   // must return or throw, never trap
        }
    }

    @Test func recordsOutOfOrderAreRefused() {
        let log = EventLog(session: Self.session, records: [
            .event(Event(instructionCount: 50, input: .timeAdvance(ticks: 1))),
            .event(Event(instructionCount: 40, input: .timeAdvance(ticks: 1))),
            .end(SessionEnd(instructionCount: 60, stateHash: 0, outputByteCount: 0, outputHash: 0, stop: .stoppedByHost)),
        ])
        #expect {
            try EventLog(bytes: log.encoded())
        } throws: { error in
            if case .outOfOrder(_, 40, 50)? = error as? EventLogError { return true }
            return false
        }
    }

    @Test func errorsSayWhatAndWhere() {
        #expect(EventLogError.truncated(offset: 77, expected: "a record").description.contains("77"))
        #expect(EventLogError.checksumMismatch(offset: 12, what: "record").description.contains("damaged at byte 12"))
        #expect(EventLogError.notAnEventLog.description.contains("not a Lockstep event log"))
    }
}

/// A small deterministic generator for tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
