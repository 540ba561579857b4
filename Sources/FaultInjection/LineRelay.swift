import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay between a node and its peer's line address, which a test can silence: while
/// silenced it keeps every connection open but drops every byte both ways, as a cut cable or a
/// black-holing switch would (the nodes see silence, not a closed connection).
public final class LineRelay: @unchecked Sendable {
    /// The port the relay listens on (what a node is given as its peer address).
    public let port: Int
    let target: Int
    private let listener: Int32
    private let lock = NSLock()
    private var silencedFlag = false
    private var closedFlag = false
    private var sockets: [Int32] = []

    /// Listens on 127.0.0.1 (a port from ``TestPorts``) and forwards to 127.0.0.1:`target`.
    public init(target: Int) throws {
        self.target = target
        let (fd, port) = try TestPorts.listen()
        listener = fd
        self.port = port
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    public var silenced: Bool {
        get { lock.withLock { silencedFlag } }
        set { lock.withLock { silencedFlag = newValue } }
    }

    public func close() {
        let all: [Int32] = lock.withLock {
            closedFlag = true
            defer { sockets = [] }
            return sockets
        }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        for fd in all { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if lock.withLock({ closedFlag }) { return }
                continue
            }
            let upstream = connectLoopback(port: target)
            guard upstream >= 0 else { Glibc.close(client); continue }
            lock.withLock { sockets += [client, upstream] }
            Thread.detachNewThread { [self] in pump(from: client, to: upstream) }
            Thread.detachNewThread { [self] in pump(from: upstream, to: client) }
        }
    }

    private func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(source, &buffer, buffer.count)
            if n <= 0 { break }
            if silenced { continue }
            var offset = 0
            while offset < n {
                let written = buffer[offset..<n].withUnsafeBytes { send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if written <= 0 { break }
                offset += written
            }
            if offset < n { break }
        }
        shutdown(destination, Int32(SHUT_RDWR))
        shutdown(source, Int32(SHUT_RDWR))
        lock.withLock {
            sockets.removeAll { $0 == source || $0 == destination }
        }
    }
}

/// A connected socket to 127.0.0.1:`port`, or -1.
func connectLoopback(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    if result != 0 { close(fd); return -1 }
    return fd
}

/// Something in the test setup failed (not a finding about Lockstep).
public enum FaultInjectionError: Error, CustomStringConvertible {
    case setup(String)
    case timeout(String)

    public var description: String {
        switch self {
        case .setup(let what): return "test setup: \(what)"
        case .timeout(let what): return "timed out: \(what)"
        }
    }
}
