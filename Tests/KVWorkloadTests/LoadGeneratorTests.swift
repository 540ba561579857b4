import KVWorkload
import LockstepSupport
import Testing

/// LoadGenerator: several clients on one console, their summary and their merged ledger.
@Suite struct LoadGeneratorTests {
    func options(_ endpoints: [Endpoint], writes: Int, clients: Int) -> LoadGenerator.Options {
        LoadGenerator.Options(endpoints: endpoints, clients: clients, keysPerClient: 20, writes: writes, namePrefix: "lg-",
                              client: KVClientTests.quick, progressInterval: 0.05)
    }

    @Test func severalClientsWriteTheirOwnKeysAndEverythingVerifies() throws {
        let server = try FakeKVServer(script: .init(dropBeforeAnswer: [100], noise: true))
        var progressReports = 0
        let summary = LoadGenerator(options: options([server.endpoint], writes: 300, clients: 3)).run { _ in progressReports += 1 }
        #expect(summary.isClean, "\(summary)")
        #expect(summary.writesAcknowledged == 300)
        #expect(summary.ledger.acknowledgedWrites == 300)
        #expect(summary.readsChecked > 50)
        #expect(summary.reconnects >= 1)   // every client on the console was dropped once
        #expect(summary.latencyP50 <= summary.latencyP99 && summary.latencyP99 <= summary.latencyMax)
        #expect(summary.longestGap > 0)
        #expect(Set(summary.ledger.values.keys.map { $0.prefix(6) }) == ["lg-c1-", "lg-c2-", "lg-c3-"])
        let client = try KVClient(endpoints: [server.endpoint], name: "checker", options: KVClientTests.quick)
        #expect(try summary.ledger.verify(using: client).isClean)
        #expect(summary.description.contains("writes acknowledged: 300"))
        _ = progressReports
    }

    @Test func aLostLastWriteShowsUpInTheVerification() throws {
        // The 30th and last write is acknowledged but not applied: nothing overwrites it later.
        let server = try FakeKVServer(script: .init(loseWrite: [30]))
        let summary = LoadGenerator(options: options([server.endpoint], writes: 30, clients: 1)).run()
        #expect(summary.isClean)   // no read came after it
        let client = try KVClient(endpoints: [server.endpoint], name: "checker", options: KVClientTests.quick)
        let report = try summary.ledger.verify(using: client)
        #expect(report.lost.count == 1)
        #expect(report.lost.first?.acknowledged.hasSuffix("-c1-\(summary.writesAcknowledged + summary.readsChecked)") == true)
    }

    @Test func aLostWriteShowsUpOnTheNextRead() throws {
        // One key, a read after every write: write 10 is lost and the read right after it sees so.
        let server = try FakeKVServer(script: .init(loseWrite: [10]))
        var options = options([server.endpoint], writes: 20, clients: 1)
        options.keysPerClient = 1
        options.readEvery = 2
        let summary = LoadGenerator(options: options).run()
        #expect(!summary.isClean)
        #expect(summary.lostOnRead == [LostWrite(key: "lg-c1-k0", acknowledged: "vlg-c1-19", found: "vlg-c1-17")])
        #expect(summary.description.contains("LOST (found on a read): lg-c1-k0: acknowledged vlg-c1-19, found vlg-c1-17"))
    }

    @Test func aServiceThatNeverAnswersEndsTheRunWithAFailure() throws {
        let silent = try FakeKVServer(script: .init(silent: true))
        var options = options([silent.endpoint], writes: 10, clients: 2)
        options.client = KVClient.Options(requestTimeout: 0.2, connectTimeout: 0.2, deadline: 0.6, retryPause: 0.05)
        let summary = LoadGenerator(options: options).run()
        #expect(!summary.isClean)
        #expect(summary.failures.count == 2)
        #expect(summary.failures.allSatisfy { $0.contains("did not answer") })
        #expect(summary.writesAcknowledged == 0)
    }
}
