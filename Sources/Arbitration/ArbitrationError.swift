#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an arbitration did not produce an outcome. After any of these, a claim's outcome is
/// unknown (see ``Arbiter``); the description says what was wrong and what to do.
public enum ArbitrationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No connection to the arbiter at `address` ("host:port"): refused, no route, unknown host.
    case unreachable(address: String, reason: String)
    /// The arbiter at `address` did not accept the connection, or did not answer, within `seconds`.
    case timeout(address: String, seconds: Double)
    /// The shared key did not match: the arbiter refused ours, or its answer did not carry it.
    case authenticationFailed(address: String)
    /// The peer speaks another version of the arbiter protocol.
    case protocolMismatch(address: String, ours: UInt8, theirs: UInt8)
    /// The peer's answer is not a well-formed arbiter message (or the peer is not an arbiter).
    case malformedResponse(address: String, detail: String)
    /// The arbiter could not store the claim (its state file could not be written); nothing changed.
    case arbiterFailed(address: String, reason: String)
    /// A system call on a state file, lock file or key file failed.
    case fileFailed(path: String, operation: String, errno: Int32)
    /// The state file or lock file is not a valid arbitration state.
    case corruptStateFile(path: String, detail: String)
    /// Another arbiter server already uses this state file.
    case stateFileInUse(path: String)
    /// The shared key is unusable (for example an empty key file).
    case invalidKey(String)
    /// A request the arbiter would not accept (an empty or over-long name, an exhausted generation).
    case invalidRequest(String)
    /// A "HOST:PORT" that cannot be parsed.
    case invalidAddress(String)
    /// The arbiter server could not listen on `address`.
    case listenFailed(address: String, reason: String)

    public var description: String {
        switch self {
        case .unreachable(let address, let reason):
            return "cannot reach the arbiter at \(address): \(reason); check that the arbiter (`lockstep arbiter`, or the etcd members) runs there and that the addresses and ports are right"
        case .timeout(let address, let seconds):
            return "the arbiter at \(address) did not answer within \(seconds) s; check the network path and the arbiter host, or raise the timeout"
        case .authenticationFailed(let address):
            return "the arbiter at \(address) refused authentication: wrong shared key, or a peer of another cluster; use the same key file on every node and on the arbiter"
        case .protocolMismatch(let address, let ours, let theirs):
            return "the arbiter at \(address) speaks protocol version \(theirs), this node speaks \(ours); run the same lockstep version on the nodes and the arbiter"
        case .malformedResponse(let address, let detail):
            return "the peer at \(address) sent a malformed answer (\(detail)); is it a lockstep arbiter, and of the same version?"
        case .arbiterFailed(let address, let reason):
            return "the arbiter at \(address) could not store the claim (\(reason)); nothing changed; fix the arbiter's storage and claim again"
        case .fileFailed(let path, let operation, let code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        case .corruptStateFile(let path, let detail):
            return "\(path) is not a valid arbitration state file (\(detail)); it was not changed. Restore it from a backup or, "
                + "if every node of every VM in it is stopped, move it aside to start again at generation 0"
        case .stateFileInUse(let path):
            return "another arbiter already uses the state file \(path); stop it first (two arbiters on one state file could both grant a VM)"
        case .invalidKey(let detail):
            return "unusable shared key: \(detail)"
        case .invalidRequest(let detail):
            return "invalid arbitration request: \(detail)"
        case .invalidAddress(let detail):
            return "invalid arbiter address: \(detail)"
        case .listenFailed(let address, let reason):
            return "the arbiter cannot listen on \(address): \(reason)"
        }
    }
}
