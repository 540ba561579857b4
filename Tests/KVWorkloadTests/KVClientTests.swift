import Foundation
import KVWorkload
import Testing

/// KVClient and Ledger against fake key-value servers that misbehave the ways a console and a
/// failover do: dropped connections, noise, a lost write, a primary that dies mid-request.
@Suite struct KVClientTests {
    /// Short timeouts: the fake servers answer at once or never.
    static let quick = KVClient.Options(requestTimeout: 0.5, connectTimeout: 0.5, deadline: 10, retryPause: 0.02)

    /// Writes `count` new values over `keys` keys, recording them in `ledger`.
    func write(_ count: Int, keys: Int = 10, with client: KVClient, into ledger: inout Ledger, tag: String = "v") throws {
        for n in 0..<count {
            try ledger.write("k\(n % keys)", "\(tag)\(n)", using: client)
        }
    }

    @Test func setGetCountAndVerifyAgainstAWellBehavedServer() throws {
        let server = try FakeKVServer()
        let client = try KVClient(endpoints: [server.endpoint], name: "t1", options: Self.quick)
        #expect(try client.count() == 0)
        #expect(try client.get("missing") == nil)
        var ledger = Ledger()
        try write(100, with: client, into: &ledger)
        #expect(try client.get("k3") == "v93")
        #expect(try client.count() == 10)
        #expect(ledger.acknowledgedWrites == 100)
        #expect(ledger.keyCount == 10)
        let report = try ledger.verify(using: client)
        #expect(report.isClean)
        #expect(report.keysChecked == 10)
        #expect(report.acknowledgedWrites == 100)
        #expect(client.reconnects == 0)
        #expect(client.connectedEndpoint == server.endpoint)
    }

    @Test func aDroppedConnectionMidRequestIsResentAndNothingIsLost() throws {
        // Requests 5, 6 and 40 are applied but their answers never come: the connection drops.
        let server = try FakeKVServer(script: .init(dropBeforeAnswer: [5, 6, 40]))
        let client = try KVClient(endpoints: [server.endpoint], name: "t2", options: Self.quick)
        var ledger = Ledger()
        try write(60, with: client, into: &ledger)
        #expect(client.reconnects == 3)
        #expect(client.resends == 3)
        #expect(ledger.acknowledgedWrites == 60)
        #expect(try ledger.verify(using: client).isClean)
    }

    @Test func noiseOtherClientsAnswersAndLateAnswersAreSkipped() throws {
        let server = try FakeKVServer(script: .init(noise: true))
        let client = try KVClient(endpoints: [server.endpoint], name: "t3", options: Self.quick)
        var ledger = Ledger()
        try write(40, keys: 7, with: client, into: &ledger)
        for n in 33..<40 { #expect(try client.get("k\(n % 7)") == "v\(n)") }
        #expect(try ledger.verify(using: client).isClean)
        #expect(client.reconnects == 0)
    }

    /// The server acknowledges one SET without applying it: with no later write to the key the
    /// key is missing (SET 17 of 20 over 20 keys: k16 = v16); with an earlier one it reverts to
    /// that older value (SET 12 of 13 over 10 keys: k1 = v11 lost, v1 found).
    @Test(arguments: [
        (17, 20, 20, LostWrite(key: "k16", acknowledged: "v16", found: nil)),
        (12, 13, 10, LostWrite(key: "k1", acknowledged: "v11", found: "v1")),
    ])
    func aLostOrRevertedWriteIsReported(lose: Int, writes: Int, keys: Int, expected: LostWrite) throws {
        let server = try FakeKVServer(script: .init(loseWrite: [lose]))
        let client = try KVClient(endpoints: [server.endpoint], name: "t4", options: Self.quick)
        var ledger = Ledger()
        try write(writes, keys: keys, with: client, into: &ledger)
        let report = try ledger.verify(using: client)
        #expect(!report.isClean)
        #expect(report.lost == [expected])
        #expect(report.description.contains("1 LOST"))
        #expect(report.description.contains("lost: \(expected)"))
    }

    @Test func failoverToTheBackupWhenThePrimaryDiesMidRequest() throws {
        // The backup shares the primary's store (as replication would) and stays silent until the
        // primary dies, after applying request 25 and before answering it.
        let store = SharedStore()
        let backup = try FakeKVServer(store: store, script: .init(silent: true))
        let primary = try FakeKVServer(store: store, script: .init(dieAt: 25, onDeath: { backup.goLive() }))
        let client = try KVClient(endpoints: [primary.endpoint, backup.endpoint], name: "t6", options: Self.quick)
        var ledger = Ledger()
        try write(50, keys: 13, with: client, into: &ledger)
        #expect(client.connectedEndpoint == backup.endpoint)
        #expect(client.reconnects == 1)
        #expect(client.resends == 1)
        #expect(ledger.acknowledgedWrites == 50)
        #expect(backup.requestCount == 26)   // the resent request 25, then 26...50
        #expect(try ledger.verify(using: client).isClean)
    }

    @Test func aSilentEndpointIsSkippedForOneThatAnswers() throws {
        let silent = try FakeKVServer(script: .init(silent: true))
        let live = try FakeKVServer()
        let client = try KVClient(endpoints: [silent.endpoint, live.endpoint], name: "t7", options: Self.quick)
        try client.set("a", to: "1")
        #expect(client.connectedEndpoint == live.endpoint)
        #expect(silent.requestCount == 0)
    }

    @Test func noAnswerWithinTheDeadlineIsAClearError() throws {
        let silent = try FakeKVServer(script: .init(silent: true))
        let closedPort = try FakeKVServer()
        let unused = closedPort.endpoint
        closedPort.stop()
        let options = KVClient.Options(requestTimeout: 0.2, connectTimeout: 0.2, deadline: 1, retryPause: 0.05)
        let client = try KVClient(endpoints: [unused, silent.endpoint], name: "t8", options: options)
        let started = Date()
        #expect {
            try client.set("a", to: "1")
        } throws: { error in
            guard case KVError.unavailable(let endpoints, _, _) = error else { return false }
            return endpoints == [unused, silent.endpoint]
                && "\(error)".contains("did not answer on 127.0.0.1:\(unused.port), 127.0.0.1:\(silent.port)")
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func errorsFromTheServiceAndBadTokensAreTypedErrors() throws {
        let server = try FakeKVServer()
        let client = try KVClient(endpoints: [server.endpoint], name: "t9", options: Self.quick)
        #expect {
            try client.get("forbidden")
        } throws: { error in
            guard case KVError.rejected(let request, let reason) = error else { return false }
            return request.hasPrefix("GET t9-") && request.hasSuffix(" forbidden") && reason == "no such luck"
        }
        #expect(throws: KVError.invalidToken("has space", what: "key")) { try client.set("has space", to: "x") }
        #expect(throws: KVError.invalidToken("", what: "value")) { try client.set("k", to: "") }
        #expect(throws: KVError.noEndpoints) { try KVClient(endpoints: []) }
        #expect(throws: KVError.invalidToken("two words", what: "client name")) { try KVClient(endpoints: [server.endpoint], name: "two words") }
        try client.set("k", to: "fine")   // still usable
    }
}
