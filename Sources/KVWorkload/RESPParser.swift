/// Reads RESP2 replies from bytes as they arrive: append what was received, then take complete
/// replies with ``next()`` until it returns nil (the rest of a reply has not arrived yet).
///
/// Strict: every line ends with CR LF, lengths and integers are plain decimal, a bulk string is
/// followed by CR LF, and RESP3's types are refused. Anything else throws
/// ``RedisError/malformedReply(_:)``, after which the stream cannot be trusted (close it).
public struct RESPParser: Sendable {
    /// The longest bulk string accepted (Redis's own `proto-max-bulk-len` default: 512 MiB).
    public static let maximumBulkLength = 512 * 1024 * 1024
    /// The longest line (a simple string, an error, a length) accepted.
    public static let maximumLineLength = 64 * 1024
    /// The deepest nesting of arrays accepted.
    public static let maximumDepth = 32

    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received but not yet taken as replies.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or nil when more bytes are needed.
    public mutating func next() throws(RedisError) -> RESPValue? {
        guard let (value, end) = try parse(at: start, depth: 0) else { return nil }
        start = end
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return value
    }

    /// The reply starting at `index` and the index after it, or nil if it is incomplete.
    private func parse(at index: Int, depth: Int) throws(RedisError) -> (RESPValue, Int)? {
        guard index < buffer.count else { return nil }
        let type = buffer[index]
        guard [UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*")].contains(type) else {
            throw .malformedReply("unknown type byte 0x\(String(type, radix: 16)) ('\(Self.printable(type))') at the start of a reply")
        }
        guard let (content, next) = try line(at: index + 1) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            return (.simpleString(String(decoding: content, as: UTF8.self)), next)
        case UInt8(ascii: "-"):
            return (.error(String(decoding: content, as: UTF8.self)), next)
        case UInt8(ascii: ":"):
            return (.integer(try Self.integer(content, what: "integer")), next)
        case UInt8(ascii: "$"):
            let length = try Self.integer(content, what: "bulk string length")
            if length == -1 { return (.nullBulkString, next) }
            guard length >= 0, length <= Self.maximumBulkLength else {
                throw .malformedReply("bulk string length \(length) is not -1 or 0...\(Self.maximumBulkLength)")
            }
            let end = next + Int(length)
            guard end + 2 <= buffer.count else { return nil }
            guard buffer[end] == 13, buffer[end + 1] == 10 else {
                throw .malformedReply("a bulk string of \(length) bytes is not followed by CR LF")
            }
            return (.bulkString(Array(buffer[next..<end])), end + 2)
        default:
            let count = try Self.integer(content, what: "array length")
            if count == -1 { return (.nullArray, next) }
            guard count >= 0 else { throw .malformedReply("array length \(count) is not -1 or more") }
            guard depth < Self.maximumDepth else { throw .malformedReply("arrays nested deeper than \(Self.maximumDepth)") }
            var values: [RESPValue] = []
            var position = next
            for _ in 0..<count {
                guard let (value, after) = try parse(at: position, depth: depth + 1) else { return nil }
                values.append(value)
                position = after
            }
            return (.array(values), position)
        }
    }

    /// The bytes from `index` to the next CR LF and the index after it, or nil if the line is
    /// incomplete.
    private func line(at index: Int) throws(RedisError) -> (ArraySlice<UInt8>, Int)? {
        var position = index
        while position < buffer.count {
            switch buffer[position] {
            case 13:
                guard position + 1 < buffer.count else { return nil }
                guard buffer[position + 1] == 10 else { throw .malformedReply("CR without LF in a line") }
                guard position - index <= Self.maximumLineLength else { throw Self.lineTooLong }
                return (buffer[index..<position], position + 2)
            case 10:
                throw .malformedReply("LF without CR in a line")
            default:
                position += 1
            }
        }
        guard position - index <= Self.maximumLineLength else { throw Self.lineTooLong }
        return nil
    }

    private static let lineTooLong = RedisError.malformedReply("a line longer than \(maximumLineLength) bytes")

    /// A decimal integer (optional minus sign, digits only).
    private static func integer(_ bytes: ArraySlice<UInt8>, what: String) throws(RedisError) -> Int64 {
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        var value: Int64 = 0
        guard !digits.isEmpty, digits.count <= 19 else { throw invalid(bytes, what: what) }
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw invalid(bytes, what: what) }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw invalid(bytes, what: what) }
            value = sum
        }
        return negative ? -value : value
    }

    private static func invalid(_ bytes: ArraySlice<UInt8>, what: String) -> RedisError {
        .malformedReply("\(what) '\(String(decoding: bytes.prefix(40), as: UTF8.self))' is not a decimal integer")
    }

    private static func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "?"
    }
}
