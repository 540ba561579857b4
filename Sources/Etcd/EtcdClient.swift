import Foundation
import Synchronization

/// A client of etcd v3 through its JSON gateway (plain HTTP/1.1 POSTs; docs/pool.md): reads,
/// puts, deletes, transactions and leases, on any member of a cluster.
///
/// Every request goes to the member that answered last; a member that cannot be reached, does
/// not answer within `timeout`, or has no leader is skipped for the next one, so one member's loss
/// changes nothing for the client. Reads are linearizable (etcd's default), and a write is
/// answered only once a quorum holds it. After an error a write's outcome is unknown.
public final class EtcdClient: Sendable {
    /// The cluster's members, as given.
    public let endpoints: [EtcdEndpoint]
    /// The limit on connecting to one member, and then on its answer.
    public let timeout: Duration
    /// The member to try first (the last one that answered).
    private let preferred = Mutex(0)

    public init(endpoints: [EtcdEndpoint], timeout: Duration = .seconds(2)) {
        precondition(!endpoints.isEmpty, "an etcd client needs at least one endpoint")
        self.endpoints = endpoints
        self.timeout = timeout
    }

    /// The value of `key`, or nil if it does not exist.
    public func get(_ key: String) async throws(EtcdError) -> EtcdKeyValue? {
        try await range(.get(key)).keyValues.first
    }

    /// Every key that starts with `prefix`, in key order, and the store's revision.
    public func list(prefix: String) async throws(EtcdError) -> (keyValues: [EtcdKeyValue], revision: Int64) {
        try await range(.prefix(prefix))
    }

    /// A range request (``EtcdOperation/range(key:rangeEnd:)``).
    public func range(_ operation: EtcdOperation) async throws(EtcdError) -> (keyValues: [EtcdKeyValue], revision: Int64) {
        guard case .range(let key, let rangeEnd) = operation else { throw .invalidRequest("range needs a range operation") }
        var request: [String: Any] = ["key": EtcdJSON.base64(key)]
        if let rangeEnd { request["range_end"] = EtcdJSON.base64(rangeEnd) }
        let (answer, reader) = try await call("/v3/kv/range", request)
        return (try reader.keyValues(answer), try reader.revision(answer))
    }

    /// Stores `value` at `key` (bound to `lease`, 0 for none); returns the new revision.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64 = 0) async throws(EtcdError) -> Int64 {
        var request: [String: Any] = ["key": EtcdJSON.base64(Array(key.utf8)), "value": EtcdJSON.base64(value)]
        if lease != 0 { request["lease"] = String(lease) }
        let (answer, reader) = try await call("/v3/kv/put", request)
        return try reader.revision(answer)
    }

    /// Deletes `key` (every key under it with `prefix`); returns how many went.
    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) async throws(EtcdError) -> Int64 {
        var request: [String: Any] = ["key": EtcdJSON.base64(Array(key.utf8))]
        if prefix { request["range_end"] = EtcdJSON.base64(EtcdOperation.rangeEnd(ofPrefix: Array(key.utf8))) }
        let (answer, reader) = try await call("/v3/kv/deleterange", request)
        return try reader.int(answer, "deleted")
    }

    /// If every compare holds, runs `success`, else `failure`, atomically.
    public func transaction(if compares: [EtcdCompare], then success: [EtcdOperation], else failure: [EtcdOperation] = [])
        async throws(EtcdError) -> EtcdTransactionResult {
        let request: [String: Any] = [
            "compare": compares.map(EtcdJSON.compare),
            "success": success.map(EtcdJSON.operation),
            "failure": failure.map(EtcdJSON.operation),
        ]
        let (answer, reader) = try await call("/v3/kv/txn", request)
        let succeeded: Bool
        switch answer["succeeded"] {
        case nil: succeeded = false
        case let value as Bool: succeeded = value
        default: throw reader.malformed("succeeded is not a boolean")
        }
        var results: [EtcdOperationResult] = []
        if let list = answer["responses"] {
            guard let items = list as? [[String: Any]] else { throw reader.malformed("responses is not a list of objects") }
            for item in items { results.append(try reader.operationResult(item)) }
        }
        let expected = succeeded ? success.count : failure.count
        guard results.count == expected else {
            throw reader.malformed("\(results.count) results for \(expected) operations")
        }
        return EtcdTransactionResult(succeeded: succeeded, revision: try reader.revision(answer), results: results)
    }

    /// A new lease of `ttl` seconds: its id and the TTL etcd granted.
    public func grantLease(ttl: Int) async throws(EtcdError) -> (id: Int64, ttl: Int64) {
        let (answer, reader) = try await call("/v3/lease/grant", ["TTL": String(ttl)])
        if let error = answer["error"] as? String, !error.isEmpty { throw .server(endpoint: reader.endpoint, code: 0, message: error) }
        let id = try reader.int(answer, "ID")
        guard id != 0 else { throw reader.malformed("a lease grant without an ID") }
        return (id, try reader.int(answer, "TTL"))
    }

    /// Renews lease `id`; returns its TTL, 0 when it has expired (or never existed): keys bound
    /// to it are gone.
    public func keepAlive(lease id: Int64) async throws(EtcdError) -> Int64 {
        let (answer, reader) = try await call("/v3/lease/keepalive", ["ID": String(id)])
        guard let result = answer["result"] as? [String: Any] else { throw reader.malformed("a keepalive answer without a result") }
        return try reader.int(result, "TTL")
    }

    /// Ends lease `id` now, deleting the keys bound to it.
    public func revokeLease(_ id: Int64) async throws(EtcdError) {
        _ = try await call("/v3/lease/revoke", ["ID": String(id)])
    }

    /// Pauses before another round of ``call(_:_:)`` when every member said it cannot serve now
    /// (an election: "leader changed", "no leader"): 0.1 s, then 0.2, 0.3, 0.4 and 0.5 s, 1.5 s
    /// in all, about three of the test clusters' election timeouts, beyond which the error is
    /// the caller's. A loaded run saw a command fail on "leader changed" from every member.
    static let electionPauses: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(300), .milliseconds(400), .milliseconds(500)]

    /// Posts `request` to the members in turn, starting with the preferred one, until one answers;
    /// again after a pause (``electionPauses``) while they all say they cannot serve now.
    private func call(_ path: String, _ request: [String: Any]) async throws(EtcdError) -> ([String: Any], EtcdJSON.Reader) {
        let body: [UInt8]
        do { body = [UInt8](try JSONSerialization.data(withJSONObject: request)) } catch {
            throw .invalidRequest("cannot encode the request: \(error)")
        }
        var round = 0
        while true {
            do throws(EtcdError) {
                return try await callEachMember(path, body)
            } catch {
                guard case .server(_, let code, _) = error, code == 14 || code == 4, round < Self.electionPauses.count else { throw error }
                try? await Task.sleep(for: Self.electionPauses[round])
                round += 1
            }
        }
    }

    /// One round of ``call(_:_:)``: each member once, starting with the preferred one.
    private func callEachMember(_ path: String, _ body: [UInt8]) async throws(EtcdError) -> ([String: Any], EtcdJSON.Reader) {
        let first = preferred.withLock { $0 }
        var lastError: EtcdError?
        var unreachable: [String] = []
        for offset in 0..<endpoints.count {
            let index = (first + offset) % endpoints.count
            let endpoint = endpoints[index]
            let reader = EtcdJSON.Reader(endpoint: endpoint.description)
            do throws(EtcdError) {
                let (status, answer) = try await EtcdHTTP.post(endpoint, path: path, body: body, timeout: timeout)
                let object = try reader.object(answer)
                if status != 200 || object["error"] != nil && object["header"] == nil {
                    let code = Int(try reader.int(object, "code"))
                    let message = (object["message"] as? String) ?? (object["error"] as? String) ?? "HTTP status \(status)"
                    let error = EtcdError.server(endpoint: endpoint.description, code: code, message: message)
                    // Unavailable (14), deadline exceeded (4): this member cannot serve now; try another.
                    guard code == 14 || code == 4 || status == 503 else { throw error }
                    lastError = error
                    continue
                }
                if index != first { preferred.withLock { $0 = index } }
                return (object, reader)
            } catch {
                switch error {
                case .unreachable(_, let reason):
                    unreachable.append(endpoint.description)
                    lastError = .unreachable(endpoints: unreachable, reason: reason)
                case .timeout:
                    lastError = error
                default:
                    throw error
                }
            }
        }
        throw lastError ?? .unreachable(endpoints: endpoints.map(\.description), reason: "no endpoint")
    }
}
