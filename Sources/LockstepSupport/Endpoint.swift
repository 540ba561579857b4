/// A TCP address: a host (a numeric IPv4 or IPv6 address, or a host name) and a port. What every
/// `HOST:PORT` flag of lockstep means: the lines and console of `lockstep node`, the arbiter of
/// `lockstep arbiter` and `lockstep node`, the console ports of `lockstep-kv`.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address (without brackets), or a host name.
    public var host: String
    /// The port (0: any free port, when listening).
    public var port: UInt16

    /// The host of a bare port (`7000`) or of `:7000`.
    public static let defaultHost = "127.0.0.1"

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPV6]:PORT`, `:PORT` or a bare `PORT` (both mean 127.0.0.1), with
    /// spaces around it ignored. Port 0 (any free port) makes sense only to listen on: refuse it
    /// with `allowsPortZero: false` where the endpoint is connected to.
    public init(parsing text: String, allowsPortZero: Bool = true) throws(EndpointError) {
        let trimmed = text.trimmingBlanks
        func fail(_ problem: EndpointError.Problem) -> EndpointError { EndpointError(text: text, problem: problem) }
        guard !trimmed.isEmpty else { throw fail(.empty) }
        var host: Substring
        let portText: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]"), trimmed[close...].hasPrefix("]:") else {
                throw fail(.unclosedBracket)
            }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            guard !host.isEmpty else { throw fail(.missingHost) }
            portText = trimmed[trimmed.index(close, offsetBy: 2)...]
        } else if let colon = trimmed.lastIndex(of: ":") {
            host = trimmed[..<colon]
            portText = trimmed[trimmed.index(after: colon)...]
            if host.contains(":") { throw fail(.unbracketedIPv6) }
        } else if trimmed.allSatisfy(\.isASCIIDigit) {
            host = ""
            portText = trimmed
        } else {
            throw fail(.missingPort)
        }
        if host.isEmpty { host = Substring(Self.defaultHost) }
        guard !portText.isEmpty else { throw fail(.missingPort) }
        guard portText.allSatisfy(\.isASCIIDigit), portText.count <= 5, let port = UInt16(portText) else {
            throw fail(.invalidPort(String(portText)))
        }
        guard port != 0 || allowsPortZero else { throw fail(.portZero) }
        self.init(host: String(host), port: port)
    }

    /// Parses a comma-separated list of endpoints (in the order a client tries them); at least one.
    public static func list(parsing text: String, allowsPortZero: Bool = true) throws(EndpointError) -> [Endpoint] {
        var endpoints: [Endpoint] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) where !item.trimmingBlanks.isEmpty {
            endpoints.append(try Endpoint(parsing: String(item), allowsPortZero: allowsPortZero))
        }
        guard !endpoints.isEmpty else { throw EndpointError(text: text, problem: .empty) }
        return endpoints
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension StringProtocol where SubSequence == Substring {
    /// Without leading and trailing spaces, tabs, carriage returns and newlines.
    fileprivate var trimmingBlanks: Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let start = firstIndex { !blank($0) } ?? endIndex
        let end = lastIndex { !blank($0) }.map { index(after: $0) } ?? start
        return self[start..<Swift.max(start, end)]
    }
}
