import Foundation
import KVWorkload
import LockstepSupport
import Testing

/// RedisWriter against a real redis-server: a clean run verifies; a killed server is a lost
/// connection (never a reconnection); a frozen one is a timeout; a flushed or reverted key is a
/// lost write.
@Suite struct RedisWriterTests {
    /// Runs `writer.write()` on its own thread; the returned semaphore is signalled when it returns.
    func writeInBackground(_ writer: RedisWriter) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            writer.write()
            done.signal()
        }
        return done
    }

    @Test func writesAreAcknowledgedAndVerified() throws {
        let server = try RedisServer()
        let options = RedisWriter.Options(endpoint: server.endpoint, keys: 200, prefix: "clean", duration: 0.6, progressInterval: 0.1)
        var progressReports = 0
        let summary = RedisWriter(options: options).run { _ in progressReports += 1 }
        #expect(summary.passed, "\(summary)")
        #expect(summary.connectionKept)
        #expect(summary.error == nil && summary.errorKind == nil)
        #expect(summary.acknowledgedWrites > 100)
        #expect(summary.writesSent == summary.acknowledgedWrites)
        #expect(summary.keysWritten == min(200, summary.acknowledgedWrites))
        #expect(summary.verified && !summary.verifiedOnNewConnection)
        #expect(summary.keysVerified == summary.keysWritten)
        #expect(summary.lostWrites.isEmpty)
        #expect(summary.acknowledgedPerSecond.reduce(0, +) == summary.acknowledgedWrites)
        #expect(summary.latencyP50Milliseconds <= summary.latencyP99Milliseconds)
        #expect(summary.latencyP99Milliseconds <= summary.latencyMaxMilliseconds)
        #expect(summary.longestStallMilliseconds >= summary.latencyMaxMilliseconds)
        #expect(summary.seconds >= 0.6 && summary.seconds < 5)
        #expect(progressReports >= 1)
        #expect(try server.client().dbSize() == summary.keysWritten)
        #expect(try RedisWriterSummary(json: summary.json()) == summary)
        #expect(summary.description.contains("PASSED"))
    }

    @Test func stopEndsTheWritePhaseThenEverythingVerifies() throws {
        let server = try RedisServer()
        let writer = RedisWriter(options: .init(endpoint: server.endpoint, keys: 50, prefix: "stop"))
        let done = writeInBackground(writer)
        #expect(waitUntil(seconds: 20) { writer.acknowledgedWrites >= 300 })
        writer.stop()
        #expect(done.wait(timeout: .now() + 10) == .success)
        writer.verify()
        let summary = writer.summary
        #expect(summary.passed, "\(summary)")
        #expect(summary.acknowledgedWrites >= 300)
        #expect(writer.ledger.acknowledgedWrites == summary.acknowledgedWrites)
        #expect(try writer.ledger.verify(using: server.client()).isClean)
    }

    @Test func aKilledServerEndsTheRunWithTheConnectionLostNeverReconnected() throws {
        let server = try RedisServer()
        let writer = RedisWriter(options: .init(endpoint: server.endpoint, keys: 100, prefix: "kill", duration: 60))
        let done = writeInBackground(writer)
        #expect(waitUntil(seconds: 20) { writer.acknowledgedWrites >= 500 })
        server.kill()
        #expect(done.wait(timeout: .now() + 10) == .success, "the writer went on after the server died")
        // A server is back on the same port, empty: the writer did not (and must not) go on on it.
        try server.restart()
        writer.verify()
        let summary = writer.summary
        #expect(!summary.connectionKept)
        #expect(summary.errorKind == .connectionReset || summary.errorKind == .closedByPeer, "\(summary)")
        #expect(summary.errorAfterSeconds != nil && summary.errorAfterSeconds! < summary.seconds + 0.001)
        #expect(summary.writesSent == summary.acknowledgedWrites + 1)
        #expect(summary.acknowledgedWrites >= 500)
        #expect(summary.seconds < 30)
        // Read back on a new connection: every acknowledged key is gone with the old server.
        #expect(summary.verified && summary.verifiedOnNewConnection)
        #expect(summary.lostWrites.count == 100)
        #expect(!summary.passed)
        #expect(summary.description.contains("connection kept:     NO"))
    }

    @Test func aKilledServerThatStaysDownFailsTheReadBackToo() throws {
        let server = try RedisServer()
        let writer = RedisWriter(options: .init(endpoint: server.endpoint, keys: 10, prefix: "down", duration: 60, connectTimeout: 1))
        let done = writeInBackground(writer)
        #expect(waitUntil(seconds: 20) { writer.acknowledgedWrites >= 100 })
        server.kill()
        #expect(done.wait(timeout: .now() + 10) == .success)
        writer.verify()
        let summary = writer.summary
        #expect(!summary.connectionKept && !summary.verified && !summary.passed)
        #expect(summary.verificationError?.contains("cannot connect") == true, "\(summary)")
    }

    @Test func aFrozenServerIsATimeoutNotAReset() throws {
        let server = try RedisServer()
        let writer = RedisWriter(options: .init(endpoint: server.endpoint, keys: 20, prefix: "frozen", duration: 60, requestTimeout: 0.5))
        let done = writeInBackground(writer)
        #expect(waitUntil(seconds: 20) { writer.acknowledgedWrites >= 200 })
        server.freeze()
        let ended = done.wait(timeout: .now() + 10)
        server.thaw()
        #expect(ended == .success)
        writer.verify()
        let summary = writer.summary
        #expect(summary.errorKind == .timedOut, "\(summary)")
        #expect(!summary.connectionKept)
        #expect(summary.writesSent == summary.acknowledgedWrites + 1)   // the timed-out write was never acknowledged
        #expect(summary.errorAfterSeconds != nil)
        // The server is back: the writes read back on a new connection, none lost (the last SET's
        // outcome is unknown and either value is fine).
        #expect(summary.verified && summary.verifiedOnNewConnection)
        #expect(summary.lostWrites.isEmpty, "\(summary)")
        #expect(!summary.passed)
    }

    @Test func aFlushAllMidRunShowsAsLostWrites() throws {
        let server = try RedisServer()
        // Keys are never written twice in this run, so no write after the flush hides it.
        let writer = RedisWriter(options: .init(endpoint: server.endpoint, keys: 10_000_000, prefix: "flush", duration: 60))
        let done = writeInBackground(writer)
        #expect(waitUntil(seconds: 20) { writer.acknowledgedWrites >= 300 })
        try server.client().command(["FLUSHALL"])
        let afterFlush = writer.acknowledgedWrites
        #expect(waitUntil(seconds: 20) { writer.acknowledgedWrites >= afterFlush + 100 })
        writer.stop()
        #expect(done.wait(timeout: .now() + 10) == .success)
        writer.verify()
        let summary = writer.summary
        #expect(summary.connectionKept && summary.verified && !summary.verifiedOnNewConnection)
        #expect(summary.lostWrites.count >= 300, "\(summary)")
        #expect(summary.lostWrites.count <= afterFlush + 1)
        #expect(summary.lostWrites.allSatisfy { $0.found == nil })
        #expect(!summary.passed)
    }

    @Test func aRevertedValueShowsAsALostWrite() throws {
        let server = try RedisServer()
        let writer = RedisWriter(options: .init(endpoint: server.endpoint, keys: 10, prefix: "revert", duration: 0.3))
        writer.write()
        #expect(writer.acknowledgedWrites >= 20)
        // Key k3 got writes 4, 14, 24, ...: put the first one back.
        try server.client().set("revert-k3", "revert-4")
        writer.verify()
        let summary = writer.summary
        let acknowledged = try #require(writer.ledger.values["revert-k3"])
        #expect(summary.lostWrites == [LostWrite(key: "revert-k3", acknowledged: acknowledged, found: "revert-4")])
        #expect(summary.connectionKept && summary.verified && !summary.passed)
        #expect(summary.description.contains("lost: revert-k3: acknowledged \(acknowledged), found revert-4"))
    }

    @Test func nothingListeningIsReportedWithoutWrites() throws {
        let server = try RedisServer()
        let endpoint = server.endpoint
        server.kill()
        let summary = RedisWriter(options: .init(endpoint: endpoint, prefix: "none", duration: 1, connectTimeout: 0.5)).run()
        #expect(summary.errorKind == .cannotConnect)
        #expect(!summary.connectionKept && !summary.passed)
        #expect(summary.acknowledgedWrites == 0 && summary.writesSent == 0)
    }
}
