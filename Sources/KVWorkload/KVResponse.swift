/// One answer line of the guest's key-value service. Every answer starts with `@kv `, so that
/// kernel messages and other noise on the same console can be told apart.
public enum KVResponse: Equatable, Sendable {
    /// `@kv READY`: the service (re)started with an empty store.
    case ready
    /// `@kv OK <id>`: a SET was applied.
    case ok(id: String)
    /// `@kv VALUE <id> <value>`: the value of a GET's key.
    case value(id: String, value: String)
    /// `@kv NONE <id>`: a GET's key has no value.
    case none(id: String)
    /// `@kv COUNT <id> <n>`: how many keys the store holds.
    case count(id: String, keys: Int)
    /// `@kv ERR <id or 0> <reason>`: a request that could not be served.
    case error(id: String, reason: String)

    /// Parses a console line; nil when it is not a well-formed `@kv` answer (noise). A line ending
    /// ("\r", "\n") is ignored, and so is anything before the first `@kv `.
    public init?(line: String) {
        guard let start = line.firstRange(of: "@kv ") else { return nil }
        let fields = line[start.upperBound...].split(separator: " ", omittingEmptySubsequences: true)
            .map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        guard let kind = fields.first else { return nil }
        let id = fields.count > 1 ? String(fields[1]) : ""
        switch (kind, fields.count) {
        case ("READY", 1): self = .ready
        case ("OK", 2): self = .ok(id: id)
        case ("VALUE", 3): self = .value(id: id, value: String(fields[2]))
        case ("NONE", 2): self = .none(id: id)
        case ("COUNT", 3):
            guard let keys = Int(fields[2]) else { return nil }
            self = .count(id: id, keys: keys)
        case ("ERR", 2...): self = .error(id: id, reason: fields[2...].joined(separator: " "))
        default: return nil
        }
    }

    /// The request id the answer echoes (nil for ``ready``).
    public var id: String? {
        switch self {
        case .ready: return nil
        case .ok(let id), .value(let id, _), .none(let id), .count(let id, _), .error(let id, _): return id
        }
    }
}
