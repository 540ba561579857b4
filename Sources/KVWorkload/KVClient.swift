import LockstepSupport

/// A client of the guest's key-value service (guests/linux/kvd.c) that rides out failovers.
///
/// It is given the console ports of every host that may run the machine, in order. It connects
/// to the first endpoint that accepts and answers a probe (a newline, then `COUNT`) with an `@kv`
/// line; on any disconnect or timeout it tries the endpoints again, in order, and resends the
/// request in flight, until the request is answered or ``Options/deadline`` has passed. It keeps
/// one request outstanding at a time, so resending a SET is safe (it writes the same value again).
///
/// The console is shared: every client sees every answer, and the kernel may print there too.
/// The client skips lines that are not `@kv` answers and answers whose id is not the one it
/// awaits (other clients' answers, late answers to an attempt it gave up on). Ids are the client's
/// ``name``, a dash and a counter, so two clients on one console need different names.
///
/// Not thread-safe: use one client per thread.
public final class KVClient {
    /// Timeouts, all in seconds.
    public struct Options: Sendable {
        /// How long to wait for the answer to one attempt before reconnecting and resending.
        public var requestTimeout: Double
        /// How long one connection attempt may take.
        public var connectTimeout: Double
        /// How long one request (or ``KVClient/connect()``) may take in all, across reconnections,
        /// before it fails with ``KVError/unavailable(endpoints:seconds:lastProblem:)``.
        public var deadline: Double
        /// The pause after a round in which no endpoint answered.
        public var retryPause: Double

        public init(requestTimeout: Double = 5, connectTimeout: Double = 2, deadline: Double = 60, retryPause: Double = 0.1) {
            self.requestTimeout = requestTimeout
            self.connectTimeout = connectTimeout
            self.deadline = deadline
            self.retryPause = retryPause
        }
    }

    /// The console ports to try, in order.
    public let endpoints: [Endpoint]
    /// The prefix of this client's request ids.
    public let name: String
    public let options: Options
    /// The endpoint of the current connection (nil when not connected).
    public var connectedEndpoint: Endpoint? { connection?.endpoint }
    /// How many connections were made after the first one (each one after a disconnect or timeout).
    public private(set) var reconnects = 0
    /// How many times a request was sent again after a reconnection.
    public private(set) var resends = 0

    private var connection: LineConnection?
    private var connections = 0
    private var counter = 0

    /// A client for the service behind `endpoints`. `name` must be a token (no spaces) of at most
    /// 40 characters, and differ from the names of other clients on the same console.
    public init(endpoints: [Endpoint], name: String = "kv", options: Options = Options()) throws(KVError) {
        guard !endpoints.isEmpty else { throw .noEndpoints }
        guard KVRequest.isToken(name), name.utf8.count <= 40 else { throw .invalidToken(name, what: "client name") }
        self.endpoints = endpoints
        self.name = name
        self.options = options
    }

    /// Closes the connection; the next request connects again.
    public func close() {
        connection?.close()
        connection = nil
    }

    /// Connects now (requests connect when they need to): useful to wait for a guest to boot.
    public func connect() throws(KVError) {
        if connection == nil { try connect(until: monotonicSeconds() + options.deadline) }
    }

    /// Sets `key` to `value`; returns once the service has acknowledged it.
    public func set(_ key: String, to value: String) throws(KVError) {
        _ = try send(.set(key: key, value: value))
    }

    /// The value of `key`, or nil if it has none.
    public func get(_ key: String) throws(KVError) -> String? {
        if case .value(_, let value) = try send(.get(key: key)) { return value }
        return nil
    }

    /// How many keys the store holds.
    public func count() throws(KVError) -> Int {
        if case .count(_, let keys) = try send(.count) { return keys }
        return 0
    }

    /// Sends `request` and returns its answer (of the kind the request gets), reconnecting and
    /// resending as needed until ``Options/deadline``.
    public func send(_ request: KVRequest) throws(KVError) -> KVResponse {
        try request.validate()
        let id = nextID()
        let line = request.line(id: id)
        let deadline = monotonicSeconds() + options.deadline
        var attempts = 0
        while true {
            let connection: LineConnection
            if let current = self.connection {
                connection = current
            } else {
                connection = try connect(until: deadline)
            }
            attempts += 1
            if attempts > 1 { resends += 1 }
            do {
                let attemptDeadline = min(deadline, monotonicSeconds() + options.requestTimeout)
                try connection.send(line, until: attemptDeadline)
                let response = try awaitAnswer(id: id, on: connection, until: attemptDeadline)
                if case .error(_, let reason) = response { throw KVError.rejected(request: line, reason: reason) }
                guard request.accepts(response) else { throw KVError.unexpectedAnswer(request: line, answer: "\(response)") }
                return response
            } catch let error as KVError {
                throw error
            } catch {
                close()
                guard monotonicSeconds() < deadline else {
                    throw .unavailable(endpoints: endpoints, seconds: options.deadline, lastProblem: "\(error)")
                }
            }
        }
    }

    /// Tries the endpoints in order until one answers the probe; throws when `deadline` passes.
    @discardableResult
    private func connect(until deadline: Double) throws(KVError) -> LineConnection {
        var lastProblem = "no endpoint tried"
        while true {
            for endpoint in endpoints {
                let now = monotonicSeconds()
                guard now < deadline else {
                    throw .unavailable(endpoints: endpoints, seconds: options.deadline, lastProblem: lastProblem)
                }
                do {
                    let candidate = try LineConnection(to: endpoint, timeout: min(options.connectTimeout, deadline - now))
                    try probe(candidate, until: min(deadline, monotonicSeconds() + options.requestTimeout))
                    connection = candidate
                    if connections > 0 { reconnects += 1 }
                    connections += 1
                    return candidate
                } catch {
                    lastProblem = "\(error)"
                }
            }
            let pause = min(options.retryPause, deadline - monotonicSeconds())
            if pause > 0 { sleepSeconds(pause) }
        }
    }

    /// A newline (to end whatever half line the console holds), then `COUNT`, whose answer shows
    /// that the service listens on this connection.
    private func probe(_ connection: LineConnection, until deadline: Double) throws(LineConnection.Problem) {
        let id = nextID()
        try connection.send("", until: deadline)
        try connection.send(KVRequest.count.line(id: id), until: deadline)
        _ = try awaitAnswer(id: id, on: connection, until: deadline)
    }

    /// Reads lines until the answer with `id` arrives, skipping noise and other ids.
    private func awaitAnswer(id: String, on connection: LineConnection, until deadline: Double) throws(LineConnection.Problem) -> KVResponse {
        while true {
            let line = try connection.readLine(until: deadline)
            if let response = KVResponse(line: line), response.id == id { return response }
        }
    }

    private func nextID() -> String {
        counter += 1
        return "\(name)-\(counter)"
    }
}
