import Foundation
import KVWorkload
import LockstepSupport
import Testing

/// RedisClient against a real redis-server, and against scripted servers for the ways a
/// connection ends: reset, closed, silent, garbage. Each kind is its own error.
@Suite struct RedisClientTests {
    @Test func pingSetGetDbsizeAndErrorReplies() throws {
        let server = try RedisServer()
        let client = try server.client()
        defer { client.close() }
        #expect(try client.ping() == "PONG")
        #expect(try client.dbSize() == 0)
        #expect(try client.get("missing") == nil)
        try client.set("k1", "value with spaces\r\nand a line break")
        #expect(try client.get("k1") == "value with spaces\r\nand a line break")
        try client.set("k2", "v2")
        #expect(try client.dbSize() == 2)
        #expect(throws: RedisError.self) { try client.command(["NOSUCHCOMMAND"]) }
        do {
            try client.command(["NOSUCHCOMMAND", "x"])
        } catch {
            #expect(error.kind == .serverError)
            #expect(!error.endsConnection)
            #expect("\(error)".contains("unknown command"))
        }
        try client.command(["LPUSH", "list", "a"])
        #expect(throws: RedisError.serverError(command: "GET list", message: "WRONGTYPE Operation against a key holding the wrong kind of value")) {
            _ = try client.get("list")
        }
        // An error reply leaves the connection usable.
        #expect(client.isOpen)
        #expect(try client.ping() == "PONG")
        #expect(try Ledger().verify(using: client).isClean)
    }

    @Test func nothingListeningIsCannotConnect() throws {
        let server = try RedisServer()
        let endpoint = server.endpoint
        server.kill()
        #expect(throws: RedisError.cannotConnect(endpoint, reason: "Connection refused")) {
            _ = try RedisClient(endpoint: endpoint, connectTimeout: 1)
        }
    }

    @Test func anOrderlyCloseIsClosedByPeer() throws {
        let server = try ScriptedTCPServer(.close)
        let client = try RedisClient(endpoint: server.endpoint, requestTimeout: 5)
        #expect(throws: RedisError.closedByPeer(server.endpoint)) { try client.set("k", "v") }
        #expect(!client.isOpen)
        #expect(throws: RedisError.notOpen(server.endpoint)) { try client.set("k", "v") }
    }

    @Test func aResetIsConnectionReset() throws {
        let server = try ScriptedTCPServer(.reset)
        let client = try RedisClient(endpoint: server.endpoint, requestTimeout: 5)
        do {
            try client.set("k", "v")
            Issue.record("SET succeeded on a reset connection")
        } catch {
            #expect(error.kind == .connectionReset, "\(error)")
            #expect("\(error)".contains("reset the connection"))
        }
        #expect(!client.isOpen)
    }

    @Test func silenceIsATimeout() throws {
        let server = try ScriptedTCPServer(.silence)
        let client = try RedisClient(endpoint: server.endpoint, requestTimeout: 0.2)
        let started = monotonicSeconds()
        #expect(throws: RedisError.timedOut(server.endpoint, command: "SET k v", seconds: 0.2)) { try client.set("k", "v") }
        #expect(monotonicSeconds() - started < 2)
        #expect(!client.isOpen)
    }

    @Test func garbageIsAMalformedReply() throws {
        let server = try ScriptedTCPServer(.answer(Array("HTTP/1.1 400 Bad Request\r\n".utf8)))
        let client = try RedisClient(endpoint: server.endpoint, requestTimeout: 2)
        do {
            _ = try client.ping()
            Issue.record("PING succeeded against an HTTP answer")
        } catch {
            #expect(error.kind == .malformedReply, "\(error)")
        }
        #expect(!client.isOpen)
    }

    @Test func aReplyOfTheWrongKindIsUnexpected() throws {
        let server = try ScriptedTCPServer(.answer(Array(":1\r\n".utf8)))
        let client = try RedisClient(endpoint: server.endpoint, requestTimeout: 2)
        #expect(throws: RedisError.unexpectedReply(command: "SET k v", reply: "(integer) 1")) { try client.set("k", "v") }
        #expect(client.isOpen)
    }
}
