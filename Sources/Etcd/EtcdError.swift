/// Why an etcd request did not produce an answer. After a failed write (a put, a transaction)
/// its outcome is unknown: read the key again before acting on it.
public enum EtcdError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No member at any of `endpoints` could be reached (refused, no route, unknown host).
    case unreachable(endpoints: [String], reason: String)
    /// The member at `endpoint` (the last one tried) did not answer within `seconds`.
    case timeout(endpoint: String, seconds: Double)
    /// etcd answered with an error (gRPC `code`, etcd's `message`), e.g. no leader, or a request
    /// it refuses.
    case server(endpoint: String, code: Int, message: String)
    /// The answer is not what etcd's JSON gateway sends (another service on that port, another
    /// etcd API version).
    case malformedResponse(endpoint: String, detail: String)
    /// A request this client will not send (an empty key, an endpoint it cannot parse).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .unreachable(let endpoints, let reason):
            return "cannot reach etcd at \(endpoints.joined(separator: ", ")): \(reason); check that etcd runs there and that the URLs (--etcd) are its client URLs"
        case .timeout(let endpoint, let seconds):
            return "etcd at \(endpoint) did not answer within \(seconds) s (a member without a quorum, or a partition); check the etcd cluster's health (`etcdctl endpoint health`)"
        case .server(let endpoint, let code, let message):
            return "etcd at \(endpoint) refused the request: \(message) (gRPC code \(code))"
        case .malformedResponse(let endpoint, let detail):
            return "the answer from \(endpoint) is not etcd v3's JSON gateway (\(detail)); is this an etcd 3.4 or later client URL?"
        case .invalidRequest(let detail):
            return "invalid etcd request: \(detail)"
        }
    }
}
