import HostIO
import Machine
import NIOCore
import Replay
@testable import Replication
import LockstepSupport
import Testing

/// The logging channel's frames: every message survives a round trip; damage, truncation,
/// strangers and other versions are refused with a typed error, never a crash.
@Suite struct ReplicationMessageTests {
    static let samples: [ReplicationMessage] = [
        .hello(Hello(vm: "kv", nodeID: "host-a", nonce: Array(0..<16))),
        .proof(Array(repeating: 7, count: 32)),
        .refuse("VM 'kv' already has a backup"),
        .join,
        .resume(nextSequence: 1234),
        .snapshotChunk(generation: 3, startSequence: 99, offset: 1 << 20, total: 5 << 20, bytes: Array(repeating: 0xAB, count: 1000)),
        .entry(sequence: 7, .input(Event(instructionCount: 123_456, input: .consoleBytes(Array("SET 1 k v\n".utf8))))),
        .entry(sequence: 8, .input(Event(instructionCount: 123_999, input: .timeAdvance(ticks: 50_000)))),
        .entry(sequence: 9, .input(Event(instructionCount: 124_000, input: .networkFrame(Array(repeating: 1, count: 60))))),
        .entry(sequence: 10, .progress(instructionCount: 2_000_000)),
        .entry(sequence: 11, .input(Event(instructionCount: 2_000_001, input: .networkAnnounce))),
        .entry(sequence: 12, .input(Event(instructionCount: 2_000_002, input: .reboot))),
        .entry(sequence: 13, .checkpoint(Checkpoint(
            state: StateDigest(instructionCount: 2_000_002, parts: [.init(name: "registers", hash: 1), .init(name: "UART", hash: 2)],
                               regionSize: 1 << 20, ramBase: 0x8000_0000, regions: [3, 4, 5], disks: [0xD15C, 0xD15D]),
            outputs: OutputDigest(outputCount: 4, byteCount: 9, value: 6)))),
        .entry(sequence: 14, .checkpoint(Checkpoint(
            state: StateDigest(instructionCount: 2_000_003, parts: [.init(name: "registers", hash: 1)],
                               regionSize: 4096, ramBase: 0x8000_0000, regions: [3], disks: []),
            outputs: OutputDigest()))),
        .ack(sequence: 10, executedCount: 1_999_000, echo: 123_456_789),
        .heartbeat(time: 987_654_321),
        .joinWithDisks([DiskReport(instance: Array(0..<16), generation: 4, sectorCount: 1 << 21, extentSectors: 512,
                                   state: .partialResync, historyTrusted: true, written: [0x81] + [UInt8](repeating: 0, count: 511),
                                   wantsFull: false)]),
        .joinWithDisks([DiskReport(instance: [], generation: 0, sectorCount: 1 << 11, extentSectors: 512, state: .consistent,
                                   historyTrusted: false, written: [], wantsFull: true),
                        DiskReport(instance: Array(16..<32), generation: 7, sectorCount: 1 << 12, extentSectors: 256,
                                   state: .fullResync, historyTrusted: true, written: [1, 0, 0, 0, 0, 0, 0, 0], wantsFull: true)]),
        .joinWithDisks([]),
        .diskPlan(generation: 5, disks: [DiskCopyPlan(instance: Array(0..<16), full: true, extents: 4096)]),
        .diskPlan(generation: 6, disks: [DiskCopyPlan(instance: Array(0..<16), full: false, extents: 3),
                                         DiskCopyPlan(instance: Array(16..<32), full: true, extents: 16)]),
        .diskPlan(generation: 1, disks: []),
        .diskExtent(disk: 0, index: 17, compressed: false, bytes: Array(repeating: 0x5A, count: 512 * 512)),
        .diskExtent(disk: 1, index: 18, compressed: true, bytes: Array(repeating: 0x5B, count: 300)),
        .diskExtent(disk: 3, index: 19, compressed: false, bytes: []),
        .joinLive,
        .ramPages(pages: [1, 5, 9], compressed: false, bytes: Array(repeating: 0x11, count: 3 * 4096)),
        .handover(lastSequence: 1234, instructionCount: 987_654_321),
    ]

    func frame(_ message: ReplicationMessage) -> [UInt8] {
        var buffer = ByteBuffer()
        ReplicationFrameCodec.encode(message, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes)!
    }

    func decodeAll(_ bytes: [UInt8]) throws(ReplicationError) -> [ReplicationMessage] {
        var buffer = ByteBuffer(bytes: bytes)
        var messages: [ReplicationMessage] = []
        while let message = try ReplicationFrameCodec.decode(&buffer) { messages.append(message) }
        return messages
    }

    @Test func everyMessageRoundTrips() throws {
        let stream = Self.samples.flatMap(frame)
        #expect(try decodeAll(stream) == Self.samples)
    }

    @Test func partialFramesWaitForMoreBytes() throws {
        let bytes = frame(Self.samples[6])
        for cut in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: Array(bytes[..<cut]))
            #expect(try ReplicationFrameCodec.decode(&buffer) == nil, "cut at \(cut)")
        }
    }

    /// Every single-bit flip of a frame is refused (CRC, magic, length or version) or, if it
    /// hits the length so that the frame looks longer, left waiting: never decoded as something else.
    @Test func everyBitFlipIsCaught() {
        let bytes = frame(Self.samples[6])
        for index in bytes.indices {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= UInt8(1 << bit)
                do {
                    let decoded = try decodeAll(damaged)
                    #expect(decoded.isEmpty, "flip of bit \(bit) of byte \(index) decoded as \(decoded)")
                } catch {}
            }
        }
    }

    @Test func strangersAndOtherVersionsAreRefused() {
        var http = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(throws: ReplicationError.self) { _ = try ReplicationFrameCodec.decode(&http) }
        var version = frame(.heartbeat(time: 1))
        version[8] = 1   // the version before a VM had several disks
        // The CRC covers the version: fix it so that the version check is what fails.
        let crc = CRC32.checksum(Array(version[4..<(version.count - 4)]))
        version.replaceSubrange((version.count - 4)..., with: withUnsafeBytes(of: crc.littleEndian, Array.init))
        #expect(throws: ReplicationError.unsupportedVersion(1)) { _ = try decodeAll(version) }
        #expect(ReplicationError.unsupportedVersion(1).description.contains("run the same Lockstep on both hosts"))
        version[8] = 2   // the version before checkpoints covered the disks
        let crc2 = CRC32.checksum(Array(version[4..<(version.count - 4)]))
        version.replaceSubrange((version.count - 4)..., with: withUnsafeBytes(of: crc2.littleEndian, Array.init))
        #expect(throws: ReplicationError.unsupportedVersion(2)) { _ = try decodeAll(version) }
        var huge = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0x7F] + Array("LSRP".utf8))
        #expect(throws: ReplicationError.self) { _ = try ReplicationFrameCodec.decode(&huge) }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator), bytes.count > 8 {
                // Plausible header, random body.
                let length = UInt32(bytes.count - 4)
                bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: length.littleEndian, Array.init) + Array("LSRP".utf8))
            }
            _ = try? decodeAll(bytes)
        }
    }
}

/// Fuzz-style property for what lies behind the checksum: the payload decoders (messages and the
/// events inside log entries). A CRC-32 keeps out damage, not a stranger or a faulty peer, who
/// can send a well-formed frame around any payload. Every mutated payload, framed with a valid
/// length and checksum, must decode into a message that survives its own round trip or be
/// refused with a `ReplicationError`: never a crash, a trap or a runaway allocation.
@Suite struct PayloadMutationTests {
    static let mutations = 20_000

    /// A seeded generator (xorshift64*), so that every run tries the same mutations and a
    /// failure names the mutation that caused it.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
    }

    /// Values that sit on the edges of length and count fields.
    static let edges: [UInt64] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                                  1 << 20, 2 << 20, UInt64(Int64.max), UInt64(bitPattern: -1), UInt64(bitPattern: -2)]

    /// One frame around `kind` and `payload`, with the right length and checksum.
    static func frame(kind: UInt8, payload: [UInt8]) -> [UInt8] {
        let body = ReplicationFrameCodec.magic + [ReplicationFrameCodec.version, kind] + payload
        let crc = CRC32.checksum(body)
        let length = UInt32(body.count + 4)
        return withUnsafeBytes(of: length.littleEndian, Array.init) + body + withUnsafeBytes(of: crc.littleEndian, Array.init)
    }

    static func mutate(_ payload: inout [UInt8], _ kind: inout UInt8, using g: inout Generator) {
        for _ in 0...Int(g.next() % 3) {
            switch g.next() % 7 {
            case 0 where !payload.isEmpty:  // flip a bit
                payload[Int(g.next() % UInt64(payload.count))] ^= UInt8(1 << (g.next() % 8))
            case 1 where !payload.isEmpty:  // a random byte
                payload[Int(g.next() % UInt64(payload.count))] = UInt8(truncatingIfNeeded: g.next())
            case 2 where payload.count >= 8:  // an edge value over 1, 2, 4 or 8 bytes
                let width = 1 << Int(g.next() % 4)
                let at = Int(g.next() % UInt64(payload.count - width + 1))
                let value = edges[Int(g.next() % UInt64(edges.count))]
                for i in 0..<width { payload[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            case 3:  // cut short
                payload.removeLast(Int(g.next() % UInt64(payload.count + 1)))
            case 4:  // longer
                payload += (0..<Int(g.next() % 24)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            case 5 where g.next() % 4 == 0:  // another kind, now and then
                kind = UInt8(truncatingIfNeeded: g.next() % 24)
            default:  // a byte removed from the middle (fields shift)
                if !payload.isEmpty { payload.remove(at: Int(g.next() % UInt64(payload.count))) }
            }
        }
    }

    @Test func mutatedPayloadsWithValidChecksumsDecodeOrAreRefused() {
        var generator = Generator(state: 0x4C53_5250_0000_0001)
        var decoded = 0, refused = 0
        let frames = ReplicationMessageTests.samples.map { message -> (kind: UInt8, payload: [UInt8]) in
            var buffer = ByteBuffer()
            ReplicationFrameCodec.encode(message, into: &buffer)
            let bytes = buffer.readBytes(length: buffer.readableBytes)!
            return (bytes[9], Array(bytes[10..<(bytes.count - 4)]))
        }
        for mutation in 0..<Self.mutations {
            var (kind, payload) = frames[Int(generator.next() % UInt64(frames.count))]
            Self.mutate(&payload, &kind, using: &generator)
            var buffer = ByteBuffer(bytes: Self.frame(kind: kind, payload: payload))
            do {
                guard let message = try ReplicationFrameCodec.decode(&buffer) else {
                    Issue.record("mutation \(mutation): a whole frame was left waiting for more bytes")
                    continue
                }
                decoded += 1
                var again = ByteBuffer()
                ReplicationFrameCodec.encode(message, into: &again)
                let reread = try ReplicationFrameCodec.decode(&again)
                #expect(reread == message, "mutation \(mutation): \(message) did not survive its round trip")
            } catch {
                refused += 1
            }
        }
        // Both outcomes happen: the mutations reach the decoders and are not all caught at the door.
        #expect(decoded > Self.mutations / 20 && refused > Self.mutations / 20, "\(decoded) decoded, \(refused) refused")
    }
}

@Suite struct PeerAuthenticationTests {
    @Test func sameKeyAuthenticatesDifferentKeyDoesNot() {
        let a = PeerAuthentication(key: Array("secret".utf8), vm: "kv", nodeID: "a")
        let b = PeerAuthentication(key: Array("secret".utf8), vm: "kv", nodeID: "b")
        let stranger = PeerAuthentication(key: Array("guess".utf8), vm: "kv", nodeID: "b")
        #expect(a.verify(b.proof(answering: a.hello), from: b.hello))
        #expect(b.verify(a.proof(answering: b.hello), from: a.hello))
        #expect(!a.verify(stranger.proof(answering: a.hello), from: stranger.hello))
        // A proof made for another connection (other nonce) does not verify.
        let a2 = PeerAuthentication(key: Array("secret".utf8), vm: "kv", nodeID: "a")
        #expect(!a.verify(b.proof(answering: a2.hello), from: b.hello))
        // Nor for another VM.
        let otherVM = PeerAuthentication(key: Array("secret".utf8), vm: "db", nodeID: "b")
        #expect(!a.verify(otherVM.proof(answering: a.hello), from: b.hello))
    }
}

@Suite struct OutputGateTests {
    static func console(_ text: String) -> MachineOutput { .console(Array(text.utf8)) }

    @Test func outputsLeaveInOrderOnlyWhenAcknowledged() {
        var gate = OutputGate()
        gate.hold(Self.console("ab"), after: 3)
        gate.hold(Self.console("c"), after: 3)
        gate.hold(.networkFrame([9, 9]), after: 4)
        gate.hold(Self.console("d"), after: 5)
        gate.hold(.console([]), after: 6)
        #expect(gate.heldBytes == 6)
        #expect(gate.oldestSequence == 3)
        #expect(gate.release(acknowledged: 2) == [])
        #expect(gate.release(acknowledged: 3) == [Self.console("abc")])
        #expect(gate.release(acknowledged: 4) == [.networkFrame([9, 9])])
        #expect(gate.release(acknowledged: 4) == [])
        #expect(gate.release(acknowledged: 9) == [Self.console("d")])
        #expect(gate.isEmpty && gate.heldBytes == 0)
        gate.hold(.console([1]), after: 100)
        #expect(gate.releaseAll() == [.console([1])])
    }

    /// Outputs taken for sending but not sent (the lease ran out in between) go back in front,
    /// in order, and leave first next time.
    @Test func outputsPutBackLeaveFirst() {
        var gate = OutputGate()
        gate.hold(Self.console("a"), after: 1)
        gate.hold(.networkFrame([1, 2, 3]), after: 2)
        gate.hold(Self.console("b"), after: 7)
        let taken = gate.release(acknowledged: 2)
        #expect(taken == [Self.console("a"), .networkFrame([1, 2, 3])])
        gate.putBack(Array(taken[1...]), after: 2)
        #expect(gate.heldBytes == 4 && gate.oldestSequence == 2)
        #expect(gate.release(acknowledged: 1) == [])
        #expect(gate.release(acknowledged: 7) == [.networkFrame([1, 2, 3]), Self.console("b")])
        #expect(gate.isEmpty && gate.heldBytes == 0)
    }
}

@Suite struct SilenceMonitorTests {
    @Test func onlyTotalSilenceKillsThePeer() {
        var monitor = SilenceMonitor(timeout: 0.4, now: 0)
        monitor.heard(line: 0, at: 0.1)
        monitor.heard(line: 1, at: 0.1)
        // Line 2 goes quiet; line 1 goes on.
        for t in stride(from: 0.2, through: 2.0, by: 0.1) { monitor.heard(line: 0, at: t) }
        #expect(monitor.silentLines(at: 2.0) == [1])
        #expect(!monitor.peerIsDead(at: 2.0))
        monitor.forget(line: 1)
        #expect(monitor.peerIsDead(at: 2.41))
        #expect(!monitor.peerIsDead(at: 2.39))
    }
}

@Suite struct ThrottleTests {
    let configuration: NodeConfiguration = {
        var c = NodeConfiguration(vm: "kv", nodeID: "a", key: [1], listen: [], peers: [], console: Endpoint(host: "127.0.0.1", port: 0))
        c.maximumUnacknowledgedEntries = 100
        c.maximumBackupLag = 1_000_000
        return c
    }()

    func status(last: UInt64 = 10, acked: UInt64 = 10, executed: UInt64 = 0, backup: Bool = true, lost: Bool = false) -> PrimaryLink.Status {
        PrimaryLink.Status(lastSequence: last, acknowledged: acked, backupExecuted: executed, hasBackup: backup, backupLost: lost,
                           joinRequested: false, retainedEntries: Int(last - acked), sentEntries: 0, sentBytes: 0)
    }

    @Test func pausesOnlyWhenTheBackupIsTooFarBehindOrLost() {
        #expect(!Throttle.mustPause(status(), instructionCount: 500_000, configuration: configuration))
        #expect(!Throttle.mustPause(status(last: 110, acked: 10), instructionCount: 0, configuration: configuration))
        #expect(Throttle.mustPause(status(last: 111, acked: 10), instructionCount: 0, configuration: configuration))
        #expect(!Throttle.mustPause(status(executed: 4_000_000), instructionCount: 5_000_000, configuration: configuration))
        #expect(Throttle.mustPause(status(executed: 4_000_000), instructionCount: 5_000_001, configuration: configuration))
        // Alone: never; a lost backup: until the arbiter has answered.
        #expect(!Throttle.mustPause(status(last: 10_000, acked: 0, backup: false), instructionCount: 1 << 40, configuration: configuration))
        #expect(Throttle.mustPause(status(backup: false, lost: true), instructionCount: 0, configuration: configuration))
    }

    @Test func aJoiningBackupGetsTheJoinLagAndASwitchoverTheTightOne() {
        var configuration = configuration
        configuration.maximumJoinLag = 50_000_000
        // The state was taken at 300 M; the backup, still loading it, has executed nothing since
        // (its last acknowledgement is an old backup's 200 M): the guest runs on to 350 M.
        #expect(!Throttle.mustPause(status(executed: 200_000_000), instructionCount: 350_000_000, configuration: configuration, joinedAt: 300_000_000))
        #expect(Throttle.mustPause(status(executed: 200_000_000), instructionCount: 350_000_001, configuration: configuration, joinedAt: 300_000_000))
        // Once it has executed past the state, the ordinary lag counts again.
        #expect(Throttle.mustPause(status(executed: 300_000_000), instructionCount: 301_000_001, configuration: configuration, joinedAt: 300_000_000))
        #expect(!Throttle.mustPause(status(executed: 300_000_000), instructionCount: 301_000_000, configuration: configuration, joinedAt: 300_000_000))
        // The entries bound holds whatever the lag.
        #expect(Throttle.mustPause(status(last: 111, acked: 10, executed: 0), instructionCount: 1, configuration: configuration, joinedAt: 300_000_000))
        // A switchover's approach: the backup within the tight lag.
        #expect(Throttle.mustPause(status(executed: 4_000_000), instructionCount: 4_000_101, configuration: configuration, maximumLag: 100))
        #expect(!Throttle.mustPause(status(executed: 4_000_000), instructionCount: 4_000_100, configuration: configuration, maximumLag: 100))
    }
}
