/// How the pool probes a VM's service from the host's side (`lockstep vm create --probe`).
public struct ProbeSpec: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A TCP connection is accepted.
        case tcp
        /// `GET path` answers 2xx.
        case http
        /// Redis answers `PING` with `+PONG`.
        case redis
        /// The key-value guest (guests/linux/kvd.c) answers `COUNT` on the VM's console, at the
        /// primary's host's address and the VM's console port (no address given): the answer
        /// comes through the guest and the replication's output rule, so a slow primary shows.
        case console
    }

    public var kind: Kind
    /// The service's address as the hosts reach it (the guest's address on its LAN).
    public var address: String
    public var port: Int
    /// For `http`: the path.
    public var path: String
    /// p99 above this many milliseconds makes the VM degraded.
    public var thresholdMilliseconds: Double
    /// Seconds between probes.
    public var interval: Double

    public init(kind: Kind, address: String, port: Int, path: String = "/", thresholdMilliseconds: Double = 100, interval: Double = 0.5) {
        self.kind = kind
        self.address = address
        self.port = port
        self.path = path
        self.thresholdMilliseconds = thresholdMilliseconds
        self.interval = interval
    }

    /// As the command line gives it (`lockstep vm show`).
    public var text: String {
        kind == .console ? "console" : "\(kind.rawValue)://\(address):\(port)\(kind == .http ? path : "")"
    }

    /// Parses `KIND://ADDRESS:PORT[/PATH]`, e.g. `redis://10.0.0.10:6379`, `http://10.0.0.10:80/health`,
    /// or `console` (the key-value guest on the VM's console; the agent fills in where).
    public init(parsing text: String, thresholdMilliseconds: Double = 100) throws(PoolError) {
        if text == "console" || text == "console://" {
            self.init(kind: .console, address: "", port: 0, thresholdMilliseconds: thresholdMilliseconds)
            return
        }
        let usage = "a probe is KIND://ADDRESS:PORT[/PATH] with KIND tcp, http or redis (e.g. redis://10.0.0.10:6379), or console (the key-value guest on the VM's console), not '\(text)'"
        let parts = text.split(separator: "://", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Kind(rawValue: parts[0]), kind != .console else { throw .invalid(usage) }
        let rest = parts[1]
        let hostPort = rest.split(separator: "/", maxSplits: 1).map(String.init)
        guard let colon = hostPort[0].lastIndex(of: ":"), let port = Int(hostPort[0][hostPort[0].index(after: colon)...]),
              (1...65535).contains(port), colon > hostPort[0].startIndex else { throw .invalid(usage) }
        self.init(kind: kind, address: String(hostPort[0][..<colon]), port: port,
                  path: hostPort.count > 1 ? "/" + hostPort[1] : "/", thresholdMilliseconds: thresholdMilliseconds)
    }
}
