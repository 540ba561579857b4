import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain loopback TCP socket, for playing a stranger, a silent server or an impostor.
final class RawSocket: Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    /// A socket listening on 127.0.0.1 at a free port (that it never accepts on, unless asked).
    static func listening() throws -> (socket: RawSocket, port: UInt16) {
        let socket = RawSocket(descriptor: Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
        var address = loopback(port: 0)
        guard withSockaddr(&address, { bind(socket.descriptor, $0, $1) }) == 0 else { throw Failure(call: "bind", code: errno) }
        guard Glibc.listen(socket.descriptor, 16) == 0 else { throw Failure(call: "listen", code: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket.descriptor, $0, &length) }
        }
        return (socket, UInt16(bigEndian: address.sin_port))
    }

    /// A fake peer: listens on a free port and runs `body` on a thread for the first connection.
    static func servingOnce(_ body: @escaping @Sendable (RawSocket) throws -> Void) throws -> (socket: RawSocket, port: UInt16) {
        let (listener, port) = try listening()
        Thread {
            guard let connection = try? listener.accept() else { return }
            try? body(connection)
            _ = connection.waitUntilClosedByPeer()
        }.start()
        return (listener, port)
    }

    /// A loopback port on which nothing listens (bound once, then closed).
    static func closedPort() throws -> UInt16 {
        try listening().port
    }

    static func connect(port: UInt16) throws -> RawSocket {
        let socket = RawSocket(descriptor: Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
        var address = loopback(port: port)
        guard withSockaddr(&address, { Glibc.connect(socket.descriptor, $0, $1) }) == 0 else { throw Failure(call: "connect", code: errno) }
        socket.setReceiveTimeout(seconds: 10)
        return socket
    }

    func accept() throws -> RawSocket {
        let client = Glibc.accept(descriptor, nil, nil)
        guard client >= 0 else { throw Failure(call: "accept", code: errno) }
        let socket = RawSocket(descriptor: client)
        socket.setReceiveTimeout(seconds: 10)
        return socket
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failure(call: "send", code: errno) }
            sent += count
        }
    }

    /// Exactly `count` bytes.
    func receive(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let got = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + received, count - received, 0) }
            guard got > 0 else { throw Failure(call: "recv", code: got == 0 ? ECONNRESET : errno) }
            received += got
        }
        return bytes
    }

    /// One length-prefixed frame's payload.
    func receiveFrame() throws -> [UInt8] {
        let prefix = try receive(4)
        let length = prefix.reduce(0) { $0 << 8 | Int($1) }
        return try receive(length)
    }

    /// Reads until the peer closes the connection; true if it did (end of file or reset) within
    /// the receive timeout, false if it kept the connection open.
    func waitUntilClosedByPeer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if got > 0 { continue }
            if got == 0 || errno == ECONNRESET { return true }
            if errno == EINTR { continue }
            return false   // EAGAIN: the timeout passed and the connection is still open
        }
    }

    private func setReceiveTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func withSockaddr(_ address: inout sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
