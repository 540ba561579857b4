import LockstepSupport

/// One TCP connection to a Redis server speaking RESP2, one command at a time, with timeouts on
/// the monotonic clock (blocking calls, non-blocking socket underneath, TCP_NODELAY).
///
/// It never reconnects. After a transport failure, a timeout or a malformed reply it closes
/// itself (replies would no longer match commands) and every later call throws
/// ``RedisError/notOpen(_:)``. A server's error reply is a reply like any other: the connection
/// stays usable.
///
/// Not thread-safe: use it from one thread at a time.
public final class RESPConnection {
    public let endpoint: Endpoint
    private let stream: TCPStream
    private var parser = RESPParser()

    /// Connects to `endpoint`, giving up after `connectTimeout` seconds.
    public init(to endpoint: Endpoint, connectTimeout: Double = 2) throws(RedisError) {
        self.endpoint = endpoint
        do {
            stream = try TCPStream(to: endpoint, timeout: connectTimeout)
        } catch {
            switch error {
            case .timedOut: throw .cannotConnect(endpoint, reason: "no answer within \(connectTimeout) s")
            case .cannotConnect(_, let reason), .reset(_, let reason), .failed(_, let reason): throw .cannotConnect(endpoint, reason: reason)
            case .closed: throw .cannotConnect(endpoint, reason: "closed while connecting")
            }
        }
    }

    /// False once the connection failed or was closed.
    public var isOpen: Bool { stream.isOpen }

    /// Closes the connection (idempotent).
    public func close() {
        stream.close()
    }

    /// Sends `command` and returns its reply (an error reply too, as ``RESPValue/error(_:)``),
    /// waiting `timeout` seconds at most for both.
    public func roundTrip(_ command: RESPCommand, timeout: Double) throws(RedisError) -> RESPValue {
        let deadline = monotonicSeconds() + timeout
        try send(command, until: deadline, timeout: timeout)
        return try reply(to: command, until: deadline, timeout: timeout)
    }

    /// Sends `command` without waiting for its reply (take it with ``reply(to:timeout:)``).
    public func send(_ command: RESPCommand, timeout: Double) throws(RedisError) {
        try send(command, until: monotonicSeconds() + timeout, timeout: timeout)
    }

    /// The next reply, which answers `command` (named in errors), waiting `timeout` seconds at most.
    public func reply(to command: RESPCommand, timeout: Double) throws(RedisError) -> RESPValue {
        try reply(to: command, until: monotonicSeconds() + timeout, timeout: timeout)
    }

    private func send(_ command: RESPCommand, until deadline: Double, timeout: Double) throws(RedisError) {
        guard stream.isOpen else { throw .notOpen(endpoint) }
        do {
            try stream.send(command.encoded, until: deadline)
        } catch {
            throw failed(error, command: command, timeout: timeout)
        }
    }

    private func reply(to command: RESPCommand, until deadline: Double, timeout: Double) throws(RedisError) -> RESPValue {
        guard stream.isOpen else { throw .notOpen(endpoint) }
        while true {
            do {
                if let value = try parser.next() { return value }
            } catch {
                close()
                throw error
            }
            do {
                parser.append(try stream.receive(until: deadline))
            } catch {
                throw failed(error, command: command, timeout: timeout)
            }
        }
    }

    /// Closes the connection and says why it failed.
    private func failed(_ problem: TCPStream.Problem, command: RESPCommand, timeout: Double) -> RedisError {
        close()
        switch problem {
        case .timedOut: return .timedOut(endpoint, command: command.description, seconds: timeout)
        case .closed: return .closedByPeer(endpoint)
        case .reset(_, let reason): return .connectionReset(endpoint, reason: reason)
        case .cannotConnect(_, let reason), .failed(_, let reason): return .connectionFailed(endpoint, reason: reason)
        }
    }
}
