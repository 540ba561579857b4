import Foundation

/// One etcd member's client URL, `http://HOST:PORT` (TLS is not supported: run etcd on a
/// trusted network, or on loopback with a proxy).
public struct EtcdEndpoint: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `http://HOST:PORT`, `HOST:PORT`, or `http://[IPv6]:PORT`.
    public init(parsing text: String) throws(EtcdError) {
        var rest = Substring(text)
        if rest.hasPrefix("https://") {
            throw .invalidRequest("\(text): TLS is not supported; give etcd's plain http:// client URL")
        }
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
            throw .invalidRequest("\(text) is not an etcd client URL: expected http://HOST:PORT, e.g. http://127.0.0.1:2379")
        }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { throw .invalidRequest("\(text) has no host: expected http://HOST:PORT") }
        self.host = String(host)
        self.port = port
    }

    /// Parses a comma-separated list of client URLs (`--etcd`).
    public static func list(_ text: String) throws(EtcdError) -> [EtcdEndpoint] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw .invalidRequest("no etcd URL given: expected http://HOST:PORT[,http://HOST:PORT...]") }
        var endpoints: [EtcdEndpoint] = []
        for part in parts { endpoints.append(try EtcdEndpoint(parsing: part)) }
        return endpoints
    }

    public var description: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }
}
