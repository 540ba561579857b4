import LockstepSupport

/// What went wrong talking to the key-value service, with what to do about it.
public enum KVError: Error, Equatable, CustomStringConvertible {
    /// A client was given no endpoint to try.
    case noEndpoints
    /// A key, value or client name that the protocol cannot carry.
    case invalidToken(String, what: String)
    /// No endpoint answered within the client's deadline.
    case unavailable(endpoints: [Endpoint], seconds: Double, lastProblem: String)
    /// The service answered `@kv ERR` to a request.
    case rejected(request: String, reason: String)
    /// The service answered a request with an answer of another kind (a protocol bug).
    case unexpectedAnswer(request: String, answer: String)
    /// A ledger file that cannot be read back.
    case invalidLedger(String)

    public var description: String {
        switch self {
        case .noEndpoints:
            return "no endpoints given: name at least one console port, host:port"
        case .invalidToken(let token, let what):
            return "invalid \(what) '\(token)': 1 to \(KVRequest.maximumTokenLength) printable ASCII characters without spaces"
        case .unavailable(let endpoints, let seconds, let lastProblem):
            let list = endpoints.map(\.description).joined(separator: ", ")
            return "the key-value service did not answer on \(list) within \(Int(seconds.rounded())) s (last problem: \(lastProblem)); "
                + "is `lockstep run --console-port` running with lockstep.service=kv on the kernel command line?"
        case .rejected(let request, let reason):
            return "the key-value service rejected '\(request)': \(reason)"
        case .unexpectedAnswer(let request, let answer):
            return "the key-value service answered '\(request)' with '\(answer)', which does not fit the request"
        case .invalidLedger(let reason):
            return "cannot read the ledger: \(reason)"
        }
    }
}
