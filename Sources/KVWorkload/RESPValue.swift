/// A reply of a Redis server in RESP2, the protocol's second version (what a server speaks unless
/// a client asks for RESP3 with `HELLO 3`).
public enum RESPValue: Sendable, Equatable, CustomStringConvertible {
    /// `+OK\r\n`: a short status text.
    case simpleString(String)
    /// `-ERR unknown command\r\n`: the server refused the command (the first word is the error's
    /// kind: ERR, WRONGTYPE, READONLY, ...).
    case error(String)
    /// `:42\r\n`.
    case integer(Int64)
    /// `$5\r\nhello\r\n`: binary-safe bytes.
    case bulkString([UInt8])
    /// `$-1\r\n`: no value (GET of a missing key).
    case nullBulkString
    /// `*2\r\n...`: a list of replies.
    case array([RESPValue])
    /// `*-1\r\n`: no list.
    case nullArray

    /// The text of a simple or bulk string (bulk bytes decoded as UTF-8), nil for anything else.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    /// The reply as `redis-cli` would show it, shortened.
    public var description: String {
        switch self {
        case .simpleString(let text): return text
        case .error(let message): return "(error) \(message)"
        case .integer(let value): return "(integer) \(value)"
        case .bulkString(let bytes):
            let text = String(decoding: bytes.prefix(200), as: UTF8.self)
            return "\"\(text)\(bytes.count > 200 ? "..." : "")\""
        case .nullBulkString, .nullArray: return "(nil)"
        case .array(let values):
            return "[" + values.prefix(20).map(\.description).joined(separator: ", ") + (values.count > 20 ? ", ..." : "") + "]"
        }
    }
}
