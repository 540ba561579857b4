#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a ``KeyFile`` gives no key, naming the file and saying what to do.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file cannot be opened or read (`errno` says why).
    case unreadable(path: String, errno: Int32)
    /// The file is larger than ``KeyFile/maximumSize``.
    case tooLarge(path: String)
    /// The file holds nothing but (at most) line ends.
    case empty(path: String)

    /// The file concerned.
    public var path: String {
        switch self {
        case .unreadable(let path, _), .tooLarge(let path), .empty(let path): return path
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let code):
            return "cannot read the key file \(path): \(String(cString: strerror(code))); give --key-file the file holding the cluster's shared secret"
        case .tooLarge(let path):
            return "the key file \(path) is larger than 1 MiB; is it the right file? It should hold the cluster's shared secret (a line)"
        case .empty(let path):
            return "the key file \(path) is empty; write the cluster's shared secret into it (the same file on every node and on the arbiter)"
        }
    }
}
