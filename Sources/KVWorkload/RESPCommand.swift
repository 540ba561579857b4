/// A command to a Redis server, as RESP2 sends it: an array of bulk strings
/// (`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n`), which carries any bytes, spaces and line
/// endings included.
public struct RESPCommand: Sendable, Equatable, CustomStringConvertible {
    /// The command's name and arguments.
    public var arguments: [[UInt8]]

    /// `SET`, `key`, `value`: each string's UTF-8 bytes.
    public init(_ arguments: [String]) {
        self.arguments = arguments.map { Array($0.utf8) }
    }

    public init(_ arguments: String...) {
        self.init(arguments)
    }

    /// Arguments that are bytes already.
    public init(bytes arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    /// The command's name (its first argument), upper-cased.
    public var name: String { arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? "" }

    /// The command on the wire.
    public var encoded: [UInt8] {
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            bytes += Array("$\(argument.count)\r\n".utf8)
            bytes += argument
            bytes += [13, 10]
        }
        return bytes
    }

    /// The command as typed into `redis-cli` (long arguments shortened).
    public var description: String {
        arguments.map { argument in
            let text = String(decoding: argument.prefix(40), as: UTF8.self)
            return argument.count > 40 ? text + "..." : text
        }.joined(separator: " ")
    }
}
