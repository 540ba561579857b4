import LockstepSupport

/// What went wrong talking to a Redis server, told apart the ways a test of failover needs: the
/// connection was reset (the server's host or process died), closed (EOF), silent past the
/// timeout, or the server answered with an error.
public enum RedisError: Error, Equatable, CustomStringConvertible {
    /// No connection could be made.
    case cannotConnect(Endpoint, reason: String)
    /// The peer reset the connection (ECONNRESET) or is gone (EPIPE).
    case connectionReset(Endpoint, reason: String)
    /// The peer closed the connection (end of stream).
    case closedByPeer(Endpoint)
    /// No (complete) reply to `command` within `seconds`. The connection is closed: a late reply
    /// would be taken for the next command's.
    case timedOut(Endpoint, command: String, seconds: Double)
    /// Another socket error (EHOSTUNREACH, ETIMEDOUT of TCP's retransmissions, ...).
    case connectionFailed(Endpoint, reason: String)
    /// The connection was closed earlier (after a failure, a timeout or ``RESPConnection/close()``).
    case notOpen(Endpoint)
    /// The server answered `command` with an error reply (`-ERR ...`, `-WRONGTYPE ...`).
    case serverError(command: String, message: String)
    /// The bytes received are not RESP2.
    case malformedReply(String)
    /// A well-formed reply of a kind that `command` does not get.
    case unexpectedReply(command: String, reply: String)

    /// The error's kind, for reports and JSON.
    public enum Kind: String, Codable, Sendable {
        case cannotConnect = "cannot-connect"
        case connectionReset = "connection-reset"
        case closedByPeer = "closed-by-peer"
        case timedOut = "timed-out"
        case connectionFailed = "connection-failed"
        case notOpen = "not-open"
        case serverError = "server-error"
        case malformedReply = "malformed-reply"
        case unexpectedReply = "unexpected-reply"
    }

    public var kind: Kind {
        switch self {
        case .cannotConnect: return .cannotConnect
        case .connectionReset: return .connectionReset
        case .closedByPeer: return .closedByPeer
        case .timedOut: return .timedOut
        case .connectionFailed: return .connectionFailed
        case .notOpen: return .notOpen
        case .serverError: return .serverError
        case .malformedReply: return .malformedReply
        case .unexpectedReply: return .unexpectedReply
        }
    }

    /// True when the connection can no longer be used (everything but a server's error reply and
    /// a reply of the wrong kind).
    public var endsConnection: Bool {
        switch self {
        case .serverError, .unexpectedReply: return false
        default: return true
        }
    }

    public var description: String {
        switch self {
        case .cannotConnect(let endpoint, let reason):
            return "cannot connect to Redis at \(endpoint): \(reason); is redis-server listening there (redis-cli -h HOST -p PORT ping)?"
        case .connectionReset(let endpoint, let reason):
            return "Redis at \(endpoint) reset the connection (\(reason)): the server or its host went away"
        case .closedByPeer(let endpoint):
            return "Redis at \(endpoint) closed the connection: the server stopped, or dropped this client (see its log)"
        case .timedOut(let endpoint, let command, let seconds):
            return "no reply from Redis at \(endpoint) to '\(command)' within \(seconds) s; raise the request timeout if the server is merely slow"
        case .connectionFailed(let endpoint, let reason):
            return "the connection to Redis at \(endpoint) failed: \(reason)"
        case .notOpen(let endpoint):
            return "the connection to Redis at \(endpoint) was closed after an earlier failure; open a new one"
        case .serverError(let command, let message):
            return "Redis refused '\(command)': \(message)"
        case .malformedReply(let reason):
            return "the reply is not RESP2: \(reason); is this port a Redis server (and not speaking RESP3 after HELLO 3)?"
        case .unexpectedReply(let command, let reply):
            return "Redis answered '\(command)' with \(reply), which does not fit the command"
        }
    }
}
