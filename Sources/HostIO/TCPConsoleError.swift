/// Why a ``TCPConsole`` could not listen.
public enum TCPConsoleError: Error, Equatable, CustomStringConvertible {
    /// The host is not an address this machine can listen on.
    case invalidAddress(host: String, reason: String)
    /// Another socket listens on that port already.
    case portInUse(address: String)
    /// Ports below 1024 need privileges.
    case permissionDenied(address: String)
    /// A socket call failed for another reason.
    case systemCall(String, address: String, reason: String)

    public var description: String {
        switch self {
        case .invalidAddress(let host, let reason):
            return "cannot listen on host \(host): \(reason); give a numeric address such as 127.0.0.1 or 0.0.0.0"
        case .portInUse(let address):
            return "cannot listen on \(address): the port is in use (by another lockstep or another program); choose another port, or 0 for a free one"
        case .permissionDenied(let address):
            return "cannot listen on \(address): permission denied (ports below 1024 need privileges); choose a port above 1023, or 0 for a free one"
        case .systemCall(let call, let address, let reason):
            return "cannot listen on \(address): \(call) failed: \(reason)"
        }
    }
}
