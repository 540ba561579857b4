import KVWorkload
import Testing

/// The pieces without a network: answer parsing, endpoints, the ledger's rules.
@Suite struct ProtocolAndLedgerTests {
    @Test func answersParseAndNoiseDoesNot() {
        #expect(KVResponse(line: "@kv READY") == .ready)
        #expect(KVResponse(line: "@kv OK c1-5") == .ok(id: "c1-5"))
        #expect(KVResponse(line: "@kv OK c1-5\r") == .ok(id: "c1-5"))
        #expect(KVResponse(line: "@kv VALUE c1-6 v42") == .value(id: "c1-6", value: "v42"))
        #expect(KVResponse(line: "@kv NONE c1-7") == .none(id: "c1-7"))
        #expect(KVResponse(line: "@kv COUNT c1-8 12") == .count(id: "c1-8", keys: 12))
        #expect(KVResponse(line: "@kv ERR 0 unknown command (SET, GET, COUNT)") == .error(id: "0", reason: "unknown command (SET, GET, COUNT)"))
        #expect(KVResponse(line: "junk before @kv OK c1-9") == .ok(id: "c1-9"))
        #expect(KVResponse(line: "@kv OK c1-5")?.id == "c1-5")
        for noise in ["", "~ # ", "[    0.1] Linux version 6.1", "@kv", "@kv VALUE c1-6", "@kv COUNT c1 x", "@kv OK a b", "@kvOK c1-1"] {
            #expect(KVResponse(line: noise) == nil, "\(noise)")
        }
    }

    @Test func requestsAndTokens() {
        #expect(KVRequest.set(key: "k", value: "v").line(id: "c-1") == "SET c-1 k v")
        #expect(KVRequest.get(key: "k").line(id: "c-2") == "GET c-2 k")
        #expect(KVRequest.count.line(id: "c-3") == "COUNT c-3")
        #expect(KVRequest.isToken("k17"))
        #expect(!KVRequest.isToken(""))
        #expect(!KVRequest.isToken("a b"))
        #expect(!KVRequest.isToken("tab\there"))
        #expect(!KVRequest.isToken(String(repeating: "x", count: 65)))
        #expect(KVRequest.isToken(String(repeating: "x", count: 64)))
    }

    @Test func theLedgerAcceptsTheLastAcknowledgedValueOrALaterUnknownOne() {
        var ledger = Ledger()
        ledger.willWrite(key: "a", value: "1")
        ledger.acknowledged(key: "a", value: "1")
        ledger.willWrite(key: "a", value: "2")   // no answer: may or may not have been applied
        #expect(ledger.check(key: "a", found: "1") == nil)
        #expect(ledger.check(key: "a", found: "2") == nil)
        #expect(ledger.check(key: "a", found: "0") == LostWrite(key: "a", acknowledged: "1", found: "0"))
        #expect(ledger.check(key: "a", found: nil) == LostWrite(key: "a", acknowledged: "1", found: nil))
        #expect(ledger.check(key: "never-written", found: nil) == nil)
        ledger.acknowledged(key: "a", value: "3")
        #expect(ledger.check(key: "a", found: "2") != nil)   // older than the acknowledged 3
        #expect(ledger.acknowledgedWrites == 2)
    }

    @Test func ledgersMergeAndSurviveTheirTextForm() throws {
        var first = Ledger()
        first.acknowledged(key: "c1-k1", value: "v1")
        first.willWrite(key: "c1-k1", value: "v2")
        var second = Ledger()
        second.acknowledged(key: "c2-k1", value: "w1")
        second.acknowledged(key: "c2-k1", value: "w2")
        first.merge(second)
        #expect(first.acknowledgedWrites == 3)
        #expect(first.values == ["c1-k1": "v1", "c2-k1": "w2"])
        #expect(try Ledger(text: first.text) == first)
        #expect(throws: KVError.self) { try Ledger(text: "not a ledger\n") }
        #expect(throws: KVError.self) { try Ledger(text: "lockstep-kv ledger v1\nwrites 1\nack only-a-key\n") }
    }
}
