/// What went wrong setting up or driving a ``NetworkLab``, with what to do about it.
public enum NetworkLabError: Error, CustomStringConvertible {
    /// Network namespaces cannot be made here.
    case unavailable(String)
    /// The configuration cannot be built (a name too long, a line number out of range, ...).
    case invalidConfiguration(String)
    /// A command could not be started.
    case cannotRun(command: String, reason: String)
    /// A command ran past its timeout and was killed.
    case timedOut(command: String, seconds: Double)
    /// A command (an `ip` call) failed.
    case commandFailed(CommandOutput)
    /// The lab was torn down already.
    case tornDown(prefix: String)

    public var description: String {
        switch self {
        case .unavailable(let reason):
            return "network namespaces are not available: \(reason). The lab needs root, iproute2 (`ip`; scripts/install-deps.sh installs it) "
                + "and, in a container, CAP_SYS_ADMIN and CAP_NET_ADMIN (docker run --privileged, or --cap-add SYS_ADMIN --cap-add NET_ADMIN)"
        case .invalidConfiguration(let reason):
            return "invalid network lab configuration: \(reason)"
        case .cannotRun(let command, let reason):
            return "cannot run \(command): \(reason)"
        case .timedOut(let command, let seconds):
            return "\(command) did not finish within \(seconds) s and was killed; use spawn(in:...) for long-running processes"
        case .commandFailed(let output):
            return "command failed: \(output)"
        case .tornDown(let prefix):
            return "the network lab \(prefix) was torn down already; make a new NetworkLab"
        }
    }
}
