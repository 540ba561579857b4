/// Why a `HOST:PORT` does not parse: the text, what is wrong with it, and (in the description) an
/// example of what would do.
public struct EndpointError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        /// Nothing given (or an empty list).
        case empty
        /// No `:PORT` after the host.
        case missingPort
        /// `[]:PORT`.
        case missingHost
        /// The port is not a number from 0 to 65535.
        case invalidPort(String)
        /// Port 0 where something must be connected to.
        case portZero
        /// An IPv6 address without brackets (`::1:7000`).
        case unbracketedIPv6
        /// A `[` without `]:PORT`.
        case unclosedBracket
    }

    /// The text as given.
    public var text: String
    public var problem: Problem

    public init(text: String, problem: Problem) {
        self.text = text
        self.problem = problem
    }

    public var description: String {
        let what: String
        switch problem {
        case .empty: what = "no address given"
        case .missingPort: what = "no port: give HOST:PORT"
        case .missingHost: what = "no address between the brackets"
        case .invalidPort(let port): what = "the port '\(port)' is not a number from 0 to 65535"
        case .portZero: what = "port 0 only means 'any free port' to listen on; give the port to connect to (1 to 65535)"
        case .unbracketedIPv6: what = "an IPv6 address goes in brackets, as in [::1]:7000"
        case .unclosedBracket: what = "expected [IPV6-ADDRESS]:PORT"
        }
        return "'\(text)' is not HOST:PORT: \(what) (for example 127.0.0.1:7000, [::1]:7000, or a bare port for 127.0.0.1)"
    }
}
