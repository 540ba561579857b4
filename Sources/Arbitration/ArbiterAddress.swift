/// Where an arbiter server listens: a host (name or IP address) and a TCP port.
public struct ArbiterAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "HOST:PORT", with an IPv6 address in brackets ("[::1]:7000"). The port is 0...65535.
    public init(parsing text: String) throws(ArbitrationError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw .invalidAddress("\"\(text)\" is not HOST:PORT (a port from 0 to 65535; an IPv6 host in brackets)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(":") || text.hasPrefix("[") else {
            throw .invalidAddress("\"\(text)\" is not HOST:PORT (an IPv6 host goes in brackets: [::1]:7000)")
        }
        self.init(host: host, port: port)
    }

    /// "host:port", or "[host]:port" for an IPv6 address.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
