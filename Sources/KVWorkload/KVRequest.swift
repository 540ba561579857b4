/// A request of the guest's key-value protocol (guests/linux/kvd.c), one line on the console:
/// `SET <id> <key> <value>`, `GET <id> <key>`, `COUNT <id>`. The id is chosen by the client and
/// echoed in the answer.
public enum KVRequest: Equatable, Sendable, CustomStringConvertible {
    case set(key: String, value: String)
    case get(key: String)
    case count

    /// The longest token (id, key, value) the service accepts.
    public static let maximumTokenLength = 64

    /// True if `token` can be an id, key or value: 1 to 64 printable ASCII characters, no spaces.
    public static func isToken<S: StringProtocol>(_ token: S) -> Bool {
        !token.isEmpty && token.utf8.count <= maximumTokenLength && token.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// The request line with `id` (without the line ending).
    public func line(id: String) -> String {
        switch self {
        case .set(let key, let value): return "SET \(id) \(key) \(value)"
        case .get(let key): return "GET \(id) \(key)"
        case .count: return "COUNT \(id)"
        }
    }

    /// Throws if a key or value cannot travel in a request.
    func validate() throws(KVError) {
        switch self {
        case .set(let key, let value):
            guard Self.isToken(key) else { throw .invalidToken(key, what: "key") }
            guard Self.isToken(value) else { throw .invalidToken(value, what: "value") }
        case .get(let key):
            guard Self.isToken(key) else { throw .invalidToken(key, what: "key") }
        case .count:
            break
        }
    }

    /// True if `response` is the kind of answer this request gets.
    func accepts(_ response: KVResponse) -> Bool {
        switch (self, response) {
        case (.set, .ok), (.get, .value), (.get, .none), (.count, .count): return true
        default: return false
        }
    }

    public var description: String { line(id: "<id>") }
}
