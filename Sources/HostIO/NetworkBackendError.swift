/// Why a network backend could not be configured or started. Every message names the flag
/// (`--netdev`) and says what to do.
public enum NetworkBackendError: Error, Equatable, CustomStringConvertible {
    /// The `--netdev` value is malformed (unknown kind, unknown or malformed option).
    case invalidOption(String, reason: String)
    /// A host call failed (opening /dev/net/tun, an ioctl, libslirp).
    case systemCall(String, reason: String)

    public var description: String {
        switch self {
        case .invalidOption(let value, let reason):
            return "--netdev \(value): \(reason)"
        case .systemCall(let call, let reason):
            return "--netdev: \(call) failed: \(reason)"
        }
    }
}
