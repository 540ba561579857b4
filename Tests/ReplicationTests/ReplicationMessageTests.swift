import Machine
import NIOCore
import Replay
@testable import Replication
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
        .ack(sequence: 10, executedCount: 1_999_000, echo: 123_456_789),
        .heartbeat(time: 987_654_321),
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
        version[8] = 2
        // The CRC covers the version: fix it so that the version check is what fails.
        let crc = CRC32.checksum(Array(version[4..<(version.count - 4)]))
        version.replaceSubrange((version.count - 4)..., with: withUnsafeBytes(of: crc.littleEndian, Array.init))
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
    @Test func outputsLeaveInOrderOnlyWhenAcknowledged() {
        var gate = OutputGate()
        gate.hold(Array("ab".utf8), after: 3)
        gate.hold(Array("c".utf8), after: 3)
        gate.hold(Array("d".utf8), after: 5)
        gate.hold([], after: 6)
        #expect(gate.heldBytes == 4)
        #expect(gate.release(acknowledged: 2) == [])
        #expect(gate.release(acknowledged: 4) == Array("abc".utf8))
        #expect(gate.release(acknowledged: 4) == [])
        #expect(gate.release(acknowledged: 9) == Array("d".utf8))
        #expect(gate.isEmpty && gate.heldBytes == 0)
        gate.hold([1], after: 100)
        #expect(gate.releaseAll() == [1])
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
}
