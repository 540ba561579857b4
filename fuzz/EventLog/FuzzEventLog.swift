// libFuzzer harness for the event log reader (Sources/Replay: EventLog(bytes:), the records'
// LogRecord(encoded:) that the replication channel also carries).
//
// Built by run.sh against the Machine and Replay modules (fuzz/common.sh). Every input must either
// read or throw an EventLogError whose offset lies inside the input; a log that reads must encode
// to a log that reads back equal (the format is canonical except for the presence flags and the
// exit code of a stop that is not an exit, which the reader takes as any nonzero / any value, so
// the property is checked on the decoded values, and byte-for-byte on the re-encoding).
//
// Each input is read twice: as it is, and with every checksum it holds recomputed, so that the
// fuzzer reaches the session and record decoders behind the CRC-32 checks.
import Machine
import Replay

@_cdecl("LLVMFuzzerTestOneInput")
public func lockstepFuzzEventLog(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzInput(data, size)
    check(bytes)
    if let fixed = withFixedChecksums(bytes), fixed != bytes { check(fixed) }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func lockstepFuzzEventLogInitialize(_ argc: UnsafeMutablePointer<Int32>?,
                                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    writeSeedsIfAsked(seeds)
    return 0
}

private func check(_ bytes: [UInt8]) {
    do {
        let log = try EventLog(bytes: bytes)
        let again = log.encoded()
        do {
            let reread = try EventLog(bytes: again)
            precondition(reread == log, "a log does not read back equal after encoding")
            precondition(reread.encoded() == again, "encoding is not stable")
        } catch {
            preconditionFailure("the encoding of a log that read does not read: \(error)")
        }
        precondition(log.end != nil, "a log without an end record was accepted")
    } catch {
        checkOffset(error, in: bytes)
    }
    // The same bytes as one record (what ReplicationMessage.entry carries).
    do {
        let record = try LogRecord(encoded: bytes)
        do {
            let reread = try LogRecord(encoded: record.encoded)
            precondition(reread == record, "a record does not read back equal")
        } catch {
            preconditionFailure("the encoding of a record that read does not read: \(error)")
        }
    } catch {
        checkOffset(error, in: bytes)
    }
}

/// Every EventLogError names an offset inside the input (or its end), and has a message.
private func checkOffset(_ error: EventLogError, in bytes: [UInt8]) {
    precondition(!error.description.isEmpty)
    let offset: Int
    switch error {
    case .notAnEventLog, .unsupportedVersion: return
    case .truncated(let o, _), .checksumMismatch(let o, _), .malformed(let o, _), .outOfOrder(let o, _, _), .missingEnd(let o):
        offset = o
    }
    precondition(offset >= 0 && offset <= bytes.count, "\(error) names offset \(offset) of \(bytes.count) bytes")
}

/// `bytes` with the header's and every record's CRC-32 recomputed, as far as the lengths are
/// inside the input; nil if there is no header to fix.
private func withFixedChecksums(_ bytes: [UInt8]) -> [UInt8]? {
    var b = bytes
    guard let headerLength = b.le(10, 4).map(Int.init), headerLength <= b.count - 14 - 4 else { return nil }
    b.setLE32(CRC32.checksum(Array(b[14..<14 + headerLength])), at: 14 + headerLength)
    var offset = 14 + headerLength + 4
    while let length = b.le(offset, 4).map(Int.init), length <= b.count - offset - 8 {
        b.setLE32(CRC32.checksum(Array(b[(offset + 8)..<(offset + 8 + length)])), at: offset + 4)
        offset += 8 + length
    }
    return b
}

/// Small valid logs covering every boot kind, input kind, record kind and stop reason.
/// A small checkpoint with every kind of field, two disks included.
let seedCheckpoint = Checkpoint(
    state: StateDigest(instructionCount: 30, parts: [.init(name: "registers", hash: 0xABCD), .init(name: "UART", hash: 7)],
                       regionSize: 4096, ramBase: 0x8000_0000, regions: [1, 2, 3], disks: [0xD1, 0xD2]),
    outputs: OutputDigest(outputCount: 2, byteCount: 7, value: 0x99))
/// The same without the disk part (a checkpoint read from a log of format 4 or older).
let seedCheckpointWithoutDisks: Checkpoint = {
    var checkpoint = seedCheckpoint
    checkpoint.state.disks = nil
    return checkpoint
}()

private func seeds() -> [(name: String, bytes: [UInt8])] {
    let configuration = MachineConfiguration(memorySize: 4 << 20, instructionsPerTick: 50, entropySeed: 7)
    let elf = SessionDescription(configuration: configuration, boot: .elf(path: "guests/out/hello.elf", hash: 0x1234_5678_9ABC_DEF0),
                                 disks: [], initialStateHash: 0xFEED)
    let linux = SessionDescription(configuration: configuration,
                                   boot: .linux(kernelPath: "Image", kernelHash: 1, initrdPath: "initrd.cpio", initrdHash: 2,
                                                commandLine: "console=ttyS0 quiet"),
                                   disks: [.init(path: "disk.img", byteCount: 1 << 20, hash: 3)], initialStateHash: 4)
    let linuxBare = SessionDescription(configuration: configuration,
                                       boot: .linux(kernelPath: "Image", kernelHash: 1, initrdPath: nil, initrdHash: nil, commandLine: ""),
                                       disks: [], initialStateHash: 5)
    let linuxDisks = SessionDescription(configuration: configuration,
                                        boot: .linux(kernelPath: "Image", kernelHash: 1, initrdPath: nil, initrdHash: nil, commandLine: ""),
                                        disks: [.init(path: "a.img", byteCount: 1 << 20, hash: 3), .init(path: "b.img", byteCount: 2 << 20, hash: 6)],
                                        initialStateHash: 8)
    let events: [LogRecord] = [
        .event(Event(instructionCount: 10, input: .consoleBytes(Array("ls\n".utf8)))),
        .event(Event(instructionCount: 10, input: .networkFrame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06]))),
        .event(Event(instructionCount: 20, input: .timeAdvance(ticks: 1000))),
        .event(Event(instructionCount: 25, input: .networkAnnounce)),
        .event(Event(instructionCount: 30, input: .reboot)),
        .checkpoint(seedCheckpoint),
        .checkpoint(seedCheckpointWithoutDisks),
    ]
    func end(_ count: UInt64, _ stop: SessionEnd.Stop) -> LogRecord {
        .end(SessionEnd(instructionCount: count, stateHash: 9, outputByteCount: 12, outputHash: 13, stop: stop))
    }
    let logs: [(String, EventLog)] = [
        ("elf-every-record", EventLog(session: elf, records: events + [end(40, .exited(code: 0))])),
        ("elf-exit-negative", EventLog(session: elf, records: [end(0, .exited(code: -1))])),
        ("linux-initrd-disk", EventLog(session: linux, records: events + [end(50, .reset)])),
        ("linux-bare", EventLog(session: linuxBare, records: [events[0], end(50, .stoppedByHost)])),
        ("linux-two-disks", EventLog(session: linuxDisks, records: [events[0], end(60, .stoppedByHost)])),
    ]
    var result = logs.map { (name: "log-" + $0.0, bytes: $0.1.encoded()) }
    // Format 4 (checkpoints without the disk part), which this build still reads.
    let format4Log = EventLog(session: linux, records: events.filter { $0 != .checkpoint(seedCheckpoint) } + [end(50, .stoppedByHost)])
    result.append((name: "log-format4-checkpoints", bytes: format4(format4Log)))
    // A log cut off before its end record (rejected with missingEnd).
    let cut = logs[0].1.encoded()
    result.append((name: "log-cut-before-end", bytes: Array(cut[..<(cut.count - 50)])))
    // Single records, as the logging channel carries them.
    for (i, record) in (events + [end(1, .exited(code: 3)), end(2, .reset), end(3, .stoppedByHost)]).enumerated() {
        result.append((name: "record-\(i)", bytes: record.encoded))
    }
    return result
}

/// `log` as format 4 wrote it (its checkpoints must not cover the disks): version 4, a session
/// description without the MAC address (6 bytes after the three u64s, since format 6), and every
/// checkpoint record without the disk part (the flag byte 0 that ends it in format 5).
private func format4(_ log: EventLog) -> [UInt8] {
    let bytes = log.encoded()
    let headerLength = Int(bytes.le(10, 4)!)
    let macStart = 14 + 3 * 8
    let session = Array(bytes[14..<macStart]) + Array(bytes[(macStart + 6)..<(14 + headerLength)])
    var header = [UInt8](repeating: 0, count: 4)
    header.setLE32(UInt32(session.count), at: 0)
    var checksum = [UInt8](repeating: 0, count: 4)
    checksum.setLE32(CRC32.checksum(session), at: 0)
    var result = Array(bytes[0..<8]) + [4, 0] + header + session + checksum
    let headerEnd = 14 + headerLength + 4
    var offset = headerEnd
    while offset < bytes.count {
        let length = Int(bytes.le(offset, 4)!)
        var payload = Array(bytes[(offset + 8)..<(offset + 8 + length)])
        if payload[0] == 4 {
            precondition(payload.last == 0, "a checkpoint that covers the disks has no format-4 encoding")
            payload.removeLast()
        }
        var frame = [UInt8](repeating: 0, count: 8)
        frame.setLE32(UInt32(payload.count), at: 0)
        frame.setLE32(CRC32.checksum(payload), at: 4)
        result += frame + payload
        offset += 8 + length
    }
    return result
}
