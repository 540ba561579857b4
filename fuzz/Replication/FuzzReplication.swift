// libFuzzer harness for the replication logging channel's frames and messages
// (Sources/Replication/ReplicationFrameFormat.swift and ReplicationMessage.swift: the bytes a peer
// sends, decoded without SwiftNIO).
//
// Built by run.sh from those files and ReplicationError.swift against the Machine and Replay
// modules (fuzz/common.sh). Each input is read three ways:
//   - as a byte stream: frames are taken off its front with ReplicationFrameCodec.decodeFrame
//     until it throws, needs more bytes, or the stream ends;
//   - the same stream with every frame's CRC-32 recomputed, to reach the payload decoders;
//   - as one payload: the first byte the message kind, the rest the payload
//     (ReplicationMessage.read(kind:payload:)).
// Every outcome must be a message, "incomplete", or a ReplicationError. The format is canonical:
// a decoded message must encode to exactly the bytes it was read from, and a frame cut one byte
// short must never decode.
import Machine
import Replay

@_cdecl("LLVMFuzzerTestOneInput")
public func lockstepFuzzReplication(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzInput(data, size)
    checkStream(bytes)
    if let fixed = withFixedChecksums(bytes), fixed != bytes { checkStream(fixed) }
    checkPayload(bytes)
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func lockstepFuzzReplicationInitialize(_ argc: UnsafeMutablePointer<Int32>?,
                                              _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    writeSeedsIfAsked(seeds)
    return 0
}

private func checkStream(_ stream: [UInt8]) {
    var offset = 0
    while offset < stream.count {
        let rest = Array(stream[offset...])
        let decoded: (message: ReplicationMessage, size: Int)?
        do { decoded = try ReplicationFrameCodec.decodeFrame(rest) } catch {
            precondition(!error.description.isEmpty)
            return
        }
        guard let (message, size) = decoded else { return }
        precondition(size >= 14 && size <= rest.count, "frame size \(size) of \(rest.count) bytes")
        let frame = Array(rest[..<size])
        precondition(ReplicationFrameCodec.frame(message) == frame, "\(message) does not encode to the bytes it was read from")
        // One byte short: not a message (more bytes needed, or an error).
        if let short = try? ReplicationFrameCodec.decodeFrame(Array(frame.dropLast())) {
            preconditionFailure("a frame cut short decoded as \(short.message)")
        }
        offset += size
    }
}

private func checkPayload(_ bytes: [UInt8]) {
    guard let kind = bytes.first else { return }
    let payload = Array(bytes.dropFirst())
    let result: Result<ReplicationMessage, ReplicationError> = payload.withUnsafeBytes { raw in
        do throws(ReplicationError) { return .success(try ReplicationMessage.read(kind: kind, payload: raw)) } catch { return .failure(error) }
    }
    switch result {
    case .success(let message):
        precondition(message.kind.rawValue == kind, "kind \(kind) read as \(message.kind)")
        var again: [UInt8] = []
        message.writePayload(to: &again)
        precondition(again == payload, "\(message) does not encode to the payload it was read from")
    case .failure(let error):
        precondition(!error.description.isEmpty)
    }
}

/// `stream` with the CRC-32 of every frame whose length fits recomputed; nil if there is none.
private func withFixedChecksums(_ stream: [UInt8]) -> [UInt8]? {
    var b = stream
    var offset = 0
    while let length = b.le(offset, 4).map(Int.init), length >= 10, length <= b.count - offset - 4 {
        let size = 4 + length
        b.setLE32(CRC32.checksum(Array(b[(offset + 4)..<(offset + size - 4)])), at: offset + size - 4)
        offset += size
    }
    return offset == 0 ? nil : b
}

/// One frame of every kind (and entry kind), one stream of all of them, and a frame cut short.
private func seeds() -> [(name: String, bytes: [UInt8])] {
    let messages: [(String, ReplicationMessage)] = [
        ("hello", .hello(Hello(vm: "vm1", nodeID: "node-a", nonce: [UInt8](repeating: 0xA5, count: 32)))),
        ("proof", .proof([UInt8](repeating: 0x5A, count: 32))),
        ("refuse", .refuse("another primary holds generation 3")),
        ("join", .join),
        ("resume", .resume(nextSequence: 42)),
        ("snapshot-chunk", .snapshotChunk(generation: 2, startSequence: 7, offset: 0, total: 16, bytes: Array(0..<16))),
        ("entry-console", .entry(sequence: 1, .input(Event(instructionCount: 1000, input: .consoleBytes(Array("ls\n".utf8)))))),
        ("entry-network", .entry(sequence: 2, .input(Event(instructionCount: 1001, input: .networkFrame([0xFF, 0xFF, 0x08, 0x06]))))),
        ("entry-time", .entry(sequence: 3, .input(Event(instructionCount: 1002, input: .timeAdvance(ticks: 50))))),
        ("entry-progress", .entry(sequence: 4, .progress(instructionCount: 5000))),
        ("entry-reboot", .entry(sequence: 6, .input(Event(instructionCount: 5001, input: .reboot)))),
        ("entry-checkpoint", .entry(sequence: 5, .checkpoint(Checkpoint(
            state: StateDigest(instructionCount: 5000, parts: [.init(name: "registers", hash: 1), .init(name: "CSRs", hash: 2)],
                               regionSize: 1 << 20, ramBase: 0x8000_0000, regions: [3, 4], disks: [6, 7]),
            outputs: OutputDigest(outputCount: 1, byteCount: 3, value: 5))))),
        ("ack", .ack(sequence: 4, executedCount: 4000, echo: 123_456_789)),
        ("heartbeat", .heartbeat(time: 987_654_321)),
        ("join-with-disks", .joinWithDisks([
            DiskReport(instance: Array(0..<16), generation: 4, sectorCount: 4096, extentSectors: 512, state: .partialResync,
                       historyTrusted: true, written: [0x81, 0, 0, 0, 0, 0, 0, 0], wantsFull: false),
            DiskReport(instance: [], generation: 0, sectorCount: 2048, extentSectors: 512, state: .consistent,
                       historyTrusted: false, written: [], wantsFull: true)])),
        ("disk-plan", .diskPlan(generation: 5, disks: [DiskCopyPlan(instance: Array(0..<16), full: false, extents: 3),
                                                       DiskCopyPlan(instance: Array(16..<32), full: true, extents: 4)])),
        ("disk-extent", .diskExtent(disk: 1, index: 2, compressed: false, bytes: Array(repeating: 0x5A, count: 64))),
        ("join-live", .joinLive),
        ("ram-pages", .ramPages(pages: [1, 3], compressed: false, bytes: Array(repeating: 0x11, count: 2 * 4096))),
    ]
    var result = messages.map { (name: "frame-" + $0.0, bytes: ReplicationFrameCodec.frame($0.1)) }
    result.append((name: "stream-all", bytes: result.flatMap(\.bytes)))
    let hello = result[0].bytes
    result.append((name: "frame-cut", bytes: Array(hello[..<(hello.count - 3)])))
    return result
}
