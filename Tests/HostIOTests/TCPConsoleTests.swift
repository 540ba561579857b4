import Foundation
import HostIO
import Testing

/// TCPConsole: a console on a TCP port, like QEMU's `-serial tcp::PORT,server,nowait`.
@Suite struct TCPConsoleTests {
    /// A blocking client socket with a receive timeout.
    final class Client {
        let descriptor: Int32

        init(port: UInt16) throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard status == 0 else { throw POSIXError(.ECONNREFUSED) }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        func send(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        /// What arrives before the console has been quiet for a while (or `expected` bytes arrived).
        func receive(polling console: TCPConsole, expected: Int) -> String {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            for _ in 0..<50 where bytes.count < expected {
                _ = console.poll(timeout: 0)
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count > 0 { bytes += buffer[0..<count] }
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        deinit { close(descriptor) }
    }

    /// Polls until `condition` holds or about five seconds passed.
    func poll(_ console: TCPConsole, until condition: () -> Bool) {
        for _ in 0..<500 where !condition() { _ = console.poll(timeout: 0.01) }
    }

    /// Polls until `count` bytes of input arrived (or about five seconds passed).
    func input(_ console: TCPConsole, count: Int) -> String {
        var bytes: [UInt8] = []
        for _ in 0..<500 where bytes.count < count { bytes += console.poll(timeout: 0.01).bytes }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func portZeroPicksAFreePortAndClientsTalkBothWays() throws {
        let console = try TCPConsole()
        #expect(console.port != 0)
        #expect(console.address == "127.0.0.1:\(console.port)")
        #expect(!console.isClosed)
        let first = try Client(port: console.port)
        let second = try Client(port: console.port)
        poll(console) { console.clientCount == 2 }
        #expect(console.clientCount == 2)

        // Input from every client reaches the guest.
        first.send("one\n")
        #expect(input(console, count: 4) == "one\n")
        second.send("two\n")
        #expect(input(console, count: 4) == "two\n")

        // Output goes to every client.
        console.write(Array("hello\r\n".utf8))
        #expect(first.receive(polling: console, expected: 7) == "hello\r\n")
        #expect(second.receive(polling: console, expected: 7) == "hello\r\n")
    }

    @Test func closedClientsAreDroppedAndOthersKeepWorking() throws {
        let console = try TCPConsole()
        var first: Client? = try Client(port: console.port)
        let second = try Client(port: console.port)
        poll(console) { console.clientCount == 2 }
        first = nil
        poll(console) { console.clientCount == 1 }
        #expect(console.clientCount == 1)
        _ = first
        console.write(Array("still here\n".utf8))
        #expect(second.receive(polling: console, expected: 11) == "still here\n")
        console.disconnectClients()
        #expect(console.clientCount == 0)
        console.write(Array("nobody listens\n".utf8))   // goes nowhere, and does not fail
    }

    @Test func pollWaitsForItsTimeoutWhenNothingArrives() throws {
        let console = try TCPConsole()
        let start = Date()
        #expect(console.poll(timeout: 0.2) == .bytes([]))
        #expect(Date().timeIntervalSince(start) >= 0.15)
    }

    @Test func aClientThatDoesNotReadIsDroppedInsteadOfStallingTheMachine() throws {
        let console = try TCPConsole(maximumPendingBytes: 64 << 10)
        let reader = try Client(port: console.port)
        let sleeper = try Client(port: console.port)
        poll(console) { console.clientCount == 2 }
        // The sleeper never reads: its socket buffers fill up, then 64 KiB wait, then it goes.
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 16 << 10)
        var drained = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        // Bounded by time, not by a count: on a loaded machine the event loop that counts what
        // waits for the sleeper may run behind the writes.
        let deadline = Date(timeIntervalSinceNow: 60)
        while console.clientCount == 2 && Date() < deadline {
            console.write(chunk)
            _ = console.poll(timeout: 0)
            while true {   // the reader keeps up
                let count = buffer.withUnsafeMutableBytes { recv(reader.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if count <= 0 { break }
                drained += count
            }
        }
        #expect(console.clientCount == 1)
        #expect(drained > 64 << 10)
        _ = sleeper
    }

    @Test func aPortInUseIsAClearError() throws {
        let console = try TCPConsole()
        #expect(throws: TCPConsoleError.portInUse(address: "127.0.0.1:\(console.port)")) {
            try TCPConsole(port: console.port)
        }
        let message = TCPConsoleError.portInUse(address: "127.0.0.1:1").description
        #expect(message.contains("in use") && message.contains("0 for a free one"))
        #expect(throws: TCPConsoleError.self) { try TCPConsole(host: "not an address", port: 0) }
    }

    @Test func closeStopsListening() throws {
        let console = try TCPConsole()
        let port = console.port
        console.close()
        #expect(throws: (any Error).self) { try Client(port: port) }
        #expect(console.poll(timeout: 0) == .bytes([]))
        // The port is free again at once.
        let again = try TCPConsole(port: port)
        #expect(again.port == port)
    }
}

/// The node's use of the console: no polling, a wake-up hook rings when input arrives.
@Suite struct TCPConsoleWakeUpTests {
    final class Rings: @unchecked Sendable {
        private let condition = NSCondition()
        private var count = 0
        func ring() { condition.lock(); count += 1; condition.broadcast(); condition.unlock() }
        /// Waits up to five seconds for a ring.
        func waitForRing() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date(timeIntervalSinceNow: 5)
            while count == 0 { if !condition.wait(until: deadline) { return count > 0 } }
            return true
        }
    }

    @Test func inputRingsTheHookAndIsTakenWithoutPolling() throws {
        let rings = Rings()
        let console = try TCPConsole(onInput: { rings.ring() })
        defer { console.close() }
        #expect(!console.hasInput)
        let client = try TCPConsoleTests.Client(port: console.port)
        client.send("ls\n")
        #expect(rings.waitForRing())
        var input = console.takeInput()
        for _ in 0..<100 where input.count < 3 {
            Thread.sleep(forTimeInterval: 0.01)
            input += console.takeInput()
        }
        #expect(String(decoding: input, as: UTF8.self) == "ls\n")
        #expect(!console.hasInput)
        #expect(console.takeInput().isEmpty)
    }

    @Test func anIPv6ConsoleSaysItsAddressInBrackets() throws {
        guard let console = try? TCPConsole(host: "::1") else { return }   // no IPv6 loopback on this host
        defer { console.close() }
        #expect(console.address == "[::1]:\(console.port)")
    }
}
