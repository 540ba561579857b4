#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LockstepSupport

/// One TCP connection (TCP_NODELAY, non-blocking underneath) with deadlines on the monotonic
/// clock: no call waits past its deadline. What ``LineConnection`` (the console's lines) and
/// ``RESPConnection`` (Redis) stand on.
final class TCPStream {
    /// Why a connection failed, told apart the ways a client needs: a reset (the peer's kernel
    /// answered with RST, or the peer is gone: ECONNRESET, EPIPE), an orderly close (EOF),
    /// silence past the deadline, and anything else.
    enum Problem: Error, CustomStringConvertible {
        case cannotConnect(Endpoint, reason: String)
        case timedOut(Endpoint)
        case closed(Endpoint)
        case reset(Endpoint, reason: String)
        case failed(Endpoint, reason: String)

        var description: String {
            switch self {
            case .cannotConnect(let endpoint, let reason): return "cannot connect to \(endpoint): \(reason)"
            case .timedOut(let endpoint): return "no answer from \(endpoint) in time"
            case .closed(let endpoint): return "\(endpoint) closed the connection"
            case .reset(let endpoint, let reason): return "\(endpoint) reset the connection: \(reason)"
            case .failed(let endpoint, let reason): return "connection to \(endpoint) failed: \(reason)"
            }
        }
    }

    let endpoint: Endpoint
    private var descriptor: Int32

    /// Connects to `endpoint`, giving up after `timeout` seconds.
    init(to endpoint: Endpoint, timeout: Double) throws(Problem) {
        self.endpoint = endpoint
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &found)
        guard status == 0, let info = found else {
            throw .cannotConnect(endpoint, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(info) }
        descriptor = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .cannotConnect(endpoint, reason: Self.lastError()) }
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw failure(.cannotConnect(endpoint, reason: Self.lastError())) }
            guard wait(for: POLLOUT, until: monotonicSeconds() + timeout) else { throw failure(.timedOut(endpoint)) }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
            guard code == 0 else { throw failure(.cannotConnect(endpoint, reason: String(cString: strerror(code)))) }
        }
    }

    deinit { close() }

    /// False once ``close()`` was called.
    var isOpen: Bool { descriptor >= 0 }

    /// Closes the connection (idempotent).
    func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }

    /// Sends all of `bytes`, waiting until `deadline` at most.
    func send(_ bytes: [UInt8], until deadline: Double) throws(Problem) {
        guard descriptor >= 0 else { throw .closed(endpoint) }
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
            } else if count < 0 && errno == EINTR {
                continue
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(for: POLLOUT, until: deadline) else { throw .timedOut(endpoint) }
            } else {
                throw classify(errno)
            }
        }
    }

    /// The next bytes received (at least one), waiting until `deadline` at most.
    func receive(until deadline: Double) throws(Problem) -> ArraySlice<UInt8> {
        guard descriptor >= 0 else { throw .closed(endpoint) }
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            guard wait(for: POLLIN, until: deadline) else { throw .timedOut(endpoint) }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                return buffer[0..<count]
            } else if count == 0 {
                throw .closed(endpoint)
            } else if errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK {
                throw classify(errno)
            }
        }
    }

    /// A reset for ECONNRESET and EPIPE (the peer is gone), a failure for anything else.
    private func classify(_ code: Int32) -> Problem {
        let reason = String(cString: strerror(code))
        return code == ECONNRESET || code == EPIPE ? .reset(endpoint, reason: reason) : .failed(endpoint, reason: reason)
    }

    /// Waits until the socket is ready for `events` (or has failed); false at the deadline.
    private func wait(for events: Int32, until deadline: Double) -> Bool {
        while true {
            let left = deadline - monotonicSeconds()
            guard left > 0 else { return false }
            var entry = pollfd(fd: descriptor, events: Int16(events), revents: 0)
            let ready = poll(&entry, 1, Int32((left * 1000).rounded(.up)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }   // let the next call report the error
        }
    }

    /// Closes the socket and passes `problem` on.
    private func failure(_ problem: Problem) -> Problem {
        close()
        return problem
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
