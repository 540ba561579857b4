import LockstepSupport

/// The few Redis commands the workload needs (SET, GET, PING, DBSIZE, and any other through
/// ``command(_:)``) over one ``RESPConnection``, with replies checked for their kind and error
/// replies thrown as ``RedisError/serverError(command:message:)``.
///
/// It never reconnects: when the connection fails, every later call throws. Not thread-safe.
public final class RedisClient {
    public let connection: RESPConnection
    /// Seconds to wait for a command's reply.
    public var requestTimeout: Double

    /// Connects to `endpoint`.
    public convenience init(endpoint: Endpoint, connectTimeout: Double = 2, requestTimeout: Double = 5) throws(RedisError) {
        self.init(connection: try RESPConnection(to: endpoint, connectTimeout: connectTimeout), requestTimeout: requestTimeout)
    }

    /// A client on a connection made already.
    public init(connection: RESPConnection, requestTimeout: Double = 5) {
        self.connection = connection
        self.requestTimeout = requestTimeout
    }

    public var endpoint: Endpoint { connection.endpoint }

    /// False once the connection failed or was closed.
    public var isOpen: Bool { connection.isOpen }

    public func close() {
        connection.close()
    }

    /// Sends a command and returns its reply; an error reply throws.
    @discardableResult
    public func command(_ arguments: [String]) throws(RedisError) -> RESPValue {
        let command = RESPCommand(arguments)
        let reply = try connection.roundTrip(command, timeout: requestTimeout)
        if case .error(let message) = reply { throw .serverError(command: command.description, message: message) }
        return reply
    }

    /// `PING`: the server's answer (`PONG`).
    public func ping() throws(RedisError) -> String {
        let reply = try command(["PING"])
        guard case .simpleString(let text) = reply else { throw .unexpectedReply(command: "PING", reply: "\(reply)") }
        return text
    }

    /// `SET key value`; returns once the server answered `+OK`.
    public func set(_ key: String, _ value: String) throws(RedisError) {
        let reply = try command(["SET", key, value])
        guard reply == .simpleString("OK") else { throw .unexpectedReply(command: "SET \(key) \(value)", reply: "\(reply)") }
    }

    /// `GET key`: its value, or nil when the key has none.
    public func get(_ key: String) throws(RedisError) -> String? {
        let reply = try command(["GET", key])
        switch reply {
        case .bulkString: return reply.string
        case .nullBulkString: return nil
        default: throw .unexpectedReply(command: "GET \(key)", reply: "\(reply)")
        }
    }

    /// `DBSIZE`: how many keys the current database holds.
    public func dbSize() throws(RedisError) -> Int {
        let reply = try command(["DBSIZE"])
        guard case .integer(let count) = reply else { throw .unexpectedReply(command: "DBSIZE", reply: "\(reply)") }
        return Int(count)
    }
}
