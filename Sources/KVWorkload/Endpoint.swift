/// Where the key-value service may answer: a console port of one of the hosts that run the
/// machine (`lockstep run --console-port`). Only the live primary's port answers.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address, or a host name.
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (`[address]:port` for IPv6).
    public init(parsing text: String) throws(KVError) {
        let trimmed = text.trimmingSpaces
        var host: Substring
        let portText: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]"), trimmed[close...].hasPrefix("]:") else {
                throw .invalidEndpoint(text, reason: "expected [address]:port")
            }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            portText = trimmed[trimmed.index(close, offsetBy: 2)...]
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else { throw .invalidEndpoint(text, reason: "expected host:port") }
            host = trimmed[..<colon]
            portText = trimmed[trimmed.index(after: colon)...]
        }
        if host.isEmpty { host = "127.0.0.1" }
        guard let port = UInt16(portText), port != 0 else {
            throw .invalidEndpoint(text, reason: "the port must be a number from 1 to 65535")
        }
        self.init(host: String(host), port: port)
    }

    /// Parses a comma-separated list of endpoints, in the order a client tries them.
    public static func list(parsing text: String) throws(KVError) -> [Endpoint] {
        var endpoints: [Endpoint] = []
        for item in text.split(separator: ",") { endpoints.append(try Endpoint(parsing: String(item))) }
        guard !endpoints.isEmpty else { throw .noEndpoints }
        return endpoints
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension StringProtocol where SubSequence == Substring {
    /// Without leading and trailing spaces, tabs and carriage returns.
    var trimmingSpaces: Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        let start = firstIndex { !blank($0) } ?? endIndex
        let end = lastIndex { !blank($0) }.map { index(after: $0) } ?? start
        return self[start..<Swift.max(start, end)]
    }
}
