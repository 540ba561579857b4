@testable import Arbitration
import LockstepSupport
import Foundation
import Testing

/// The built-in server and its client facing what goes wrong on a network: wrong keys, strangers,
/// dead and silent arbiters, impostors, damaged state files and storage that fails.
@Suite struct ArbiterServerTests {
    @Test func aClientWithAnotherKeyIsRefusedAndTheServerSaysWhy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = LogLines()
        let server = try await startServer(statePath: directory.file("state"), log: log)

        let stranger = client(of: server, key: otherKey)
        #expect(await arbitrationError { try await stranger.claim(vm: "vm1", expectedGeneration: 0, owner: "intruder") }
                == .authenticationFailed(address: server.address.description))
        #expect(await arbitrationError { try await stranger.current(vm: "vm1") } == .authenticationFailed(address: server.address.description))
        let line = await log.waitForLine(containing: "bad key")
        #expect(line?.hasPrefix("lockstep arbiter: refused a client from 127.0.0.1:") == true)
        #expect(line?.hasSuffix(": bad key") == true)

        // Nothing changed, and the cluster's own nodes are still served.
        #expect(try await client(of: server).current(vm: "vm1") == (0, ""))
        #expect(try await client(of: server).claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        await server.stop()
    }

    @Test func aKeyFileIsItsBytesWithoutOneTrailingNewline() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Data("the cluster's secret\n".utf8).write(to: URL(fileURLWithPath: directory.file("key")))
        try Data("the cluster's secret\r\n".utf8).write(to: URL(fileURLWithPath: directory.file("crlf-key")))
        try Data("\n".utf8).write(to: URL(fileURLWithPath: directory.file("empty-key")))
        let server = try await startServer(statePath: directory.file("state"), key: try SharedKey(contentsOfFile: directory.file("key")))
        #expect(try await client(of: server, key: testKey).claim(vm: "vm1", expectedGeneration: 0, owner: "a") == .won(generation: 1))
        #expect(try await client(of: server, key: SharedKey(contentsOfFile: directory.file("crlf-key"))).current(vm: "vm1") == (1, "a"))
        await server.stop()

        guard case .invalidKey(let detail) = await arbitrationError({ try SharedKey(contentsOfFile: directory.file("empty-key")) }) else {
            Issue.record("an empty key file is not an invalid key")
            return
        }
        #expect(detail.contains(directory.file("empty-key")))
        #expect(await arbitrationError { try SharedKey(contentsOfFile: directory.file("missing")) }
                == .fileFailed(path: directory.file("missing"), operation: "reading the shared key", errno: ENOENT))
        #expect(await arbitrationError { try SharedKey(bytes: []) }.map { if case .invalidKey = $0 { true } else { false } } == true)
    }

    @Test func strangersSendingGarbageAreDisconnectedAndTheServerKeepsServing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = LogLines()
        let server = try await startServer(statePath: directory.file("state"), log: log)

        let garbage: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\nHost: arbiter\r\nUser-Agent: curl/8.0\r\n\r\n".utf8),   // a length of 0x47455420
            randomBytes(8192),                                                               // any length ≤ 1024 is complete
            [0, 0, 0, 0],                                                                   // an empty frame
            [0, 0, 0, 10] + Array("LSAR".utf8) + [1, 0x02, 0, 0, 0, 0],                     // a truncated claim
            [0, 0, 0, 6] + Array("LSAR".utf8) + [1, 0x11],                                  // an answer sent as a request
        ]
        for bytes in garbage {
            let socket = try RawSocket.connect(port: server.address.port)
            try socket.send(bytes)
            #expect(socket.waitUntilClosedByPeer(), "still connected after \(bytes.prefix(16))")
        }
        #expect(await log.waitForLine(containing: "not a lockstep arbiter client (a frame of 1195725856 bytes") != nil)
        #expect(await log.waitForLine(containing: "a frame of 0 bytes") != nil)
        #expect(await log.waitForLine(containing: "malformed request") != nil)

        #expect(try await client(of: server).claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        await server.stop()
    }

    @Test func aSilentClientIsDisconnectedAfterTheClientTimeout() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = LogLines()
        let server = try await startServer(statePath: directory.file("state"), log: log, clientTimeout: .milliseconds(300))
        let socket = try RawSocket.connect(port: server.address.port)
        #expect(socket.waitUntilClosedByPeer())
        #expect(await log.waitForLine(containing: "no request within") != nil)
        await server.stop()
    }

    @Test func aClosedPortIsUnreachable() async throws {
        let port = try RawSocket.closedPort()
        let arbiter = RemoteArbiter(host: "127.0.0.1", port: port, key: testKey, timeout: .seconds(2))
        #expect(await arbitrationError { try await arbiter.claim(vm: "vm1", expectedGeneration: 0, owner: "a") }
                == .unreachable(address: "127.0.0.1:\(port)", reason: "Connection refused"))
    }

    @Test func aServerThatAcceptsButNeverAnswersTimesOut() async throws {
        // The kernel completes the handshake for the listen backlog; nobody ever reads or writes.
        let (silent, port) = try RawSocket.listening()
        let arbiter = RemoteArbiter(host: "127.0.0.1", port: port, key: testKey, timeout: .milliseconds(300))
        #expect(await arbitrationError { try await arbiter.claim(vm: "vm1", expectedGeneration: 0, owner: "a") }
                == .timeout(address: "127.0.0.1:\(port)", seconds: 0.3))
        #expect(await arbitrationError { try await arbiter.current(vm: "vm1") } == .timeout(address: "127.0.0.1:\(port)", seconds: 0.3))
        _ = silent
    }

    @Test func anImpostorWithoutTheKeyCannotGrantAClaim() async throws {
        // A fake arbiter that speaks the protocol but not with our key answers "won".
        let (impostor, port) = try RawSocket.servingOnce { connection in
            let nonce = [UInt8](repeating: 7, count: WireMessage.serverNonceLength)
            try connection.send(Array(Framing.frame(WireMessage.hello(nonce: nonce).encoded(key: otherKey, context: [])).readableBytesView))
            let request = try connection.receiveFrame()
            let answer = WireMessage.won(generation: 1).encoded(key: otherKey, context: nonce + request)
            try connection.send(Array(Framing.frame(answer).readableBytesView))
        }
        defer { _ = impostor }
        let arbiter = RemoteArbiter(host: "127.0.0.1", port: port, key: testKey, timeout: .seconds(5))
        #expect(await arbitrationError { try await arbiter.claim(vm: "vm1", expectedGeneration: 0, owner: "a") }
                == .authenticationFailed(address: "127.0.0.1:\(port)"))
    }

    @Test func aPeerOfAnotherProtocolVersionIsReportedAsSuch() async throws {
        let (future, port) = try RawSocket.servingOnce { connection in
            var hello = WireMessage.hello(nonce: [UInt8](repeating: 1, count: 32)).encoded(key: testKey, context: [])
            hello[4] = 2   // the version byte
            try connection.send(Array(Framing.frame(hello).readableBytesView))
        }
        defer { _ = future }
        let arbiter = RemoteArbiter(host: "127.0.0.1", port: port, key: testKey, timeout: .seconds(5))
        #expect(await arbitrationError { try await arbiter.current(vm: "vm1") }
                == .protocolMismatch(address: "127.0.0.1:\(port)", ours: 1, theirs: 2))
    }

    @Test func aDamagedStateFileStopsTheServerFromStarting() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("state")
        let server = try await startServer(statePath: path)
        #expect(try await client(of: server).claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") == .won(generation: 1))
        await server.stop()

        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(await arbitrationError { try await startServer(statePath: path) }
                == .corruptStateFile(path: path, detail: "checksum mismatch"))

        try Data().write(to: URL(fileURLWithPath: path))
        #expect(await arbitrationError { try await startServer(statePath: path) } == .corruptStateFile(path: path, detail: "the file is empty"))

        try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
        #expect(await arbitrationError { try await startServer(statePath: path) }
                == .corruptStateFile(path: path, detail: "no LSARBITR magic at the start"))
    }

    @Test func twoServersCannotShareAStateFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("state")
        let first = try await startServer(statePath: path)
        #expect(await arbitrationError { try await startServer(statePath: path) } == .stateFileInUse(path: path))
        await first.stop()
        let second = try await startServer(statePath: path)   // released by stop()
        await second.stop()
    }

    @Test func aClaimThatCannotBeStoredIsNotWon() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let stateDirectory = directory.file("gone")
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: false)
        let log = LogLines()
        let server = try await startServer(statePath: stateDirectory + "/state", log: log)
        try FileManager.default.removeItem(atPath: stateDirectory)   // the storage is lost under the server

        let error = await arbitrationError { try await client(of: server).claim(vm: "vm1", expectedGeneration: 0, owner: "node-a") }
        guard case .arbiterFailed(let address, let reason) = error else {
            Issue.record("expected arbiterFailed, got \(String(describing: error))")
            return
        }
        #expect(address == server.address.description)
        #expect(reason.contains(stateDirectory + "/state.tmp: open failed: No such file or directory"))
        #expect(try await client(of: server).current(vm: "vm1") == (0, ""))
        #expect(await log.waitForLine(containing: "a claim of VM \"vm1\" failed") != nil)
        await server.stop()
    }

    @Test func listeningOnABusyPortFails() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (busy, port) = try RawSocket.listening()
        let error = await arbitrationError {
            try await ArbiterServer.start(listeningOn: Endpoint(host: "127.0.0.1", port: port), statePath: directory.file("state"), key: testKey)
        }
        guard case .listenFailed(let address, let reason) = error else {
            Issue.record("expected listenFailed, got \(String(describing: error))")
            return
        }
        #expect(address == "127.0.0.1:\(port)")
        #expect(reason.contains("Address already in use"))
        _ = busy
        // The failed start released the state file.
        let server = try await startServer(statePath: directory.file("state"))
        await server.stop()
    }
}
