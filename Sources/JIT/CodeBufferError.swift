/// Why a `CodeBuffer` could not be created or written. Every `description` is one line that says
/// what is wrong and what to do.
public enum CodeBufferError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The host refuses every way of making generated code executable (no `memfd_create`, a
    /// seccomp filter, SELinux `deny_execmem`, `PR_SET_MDWE`...); `reasons` lists how each
    /// strategy failed. The caller runs the interpreter instead.
    case executableMemoryUnavailable(reasons: [String])
    /// The region has no room for `requested` more bytes (`used` of `capacity` are taken).
    case full(capacity: Int, used: Int, requested: Int)
    /// Changing the protection of already created code pages failed (protection-flip strategy).
    case protectionChangeFailed(operation: String, error: String)

    public var description: String {
        switch self {
        case .executableMemoryUnavailable(let reasons):
            "this host does not allow generated code to run (\(reasons.joined(separator: "; "))): using the interpreter"
        case .full(let capacity, let used, let requested):
            "the code buffer is full (\(used) of \(capacity) bytes used, \(requested) more requested): "
                + "reset() it and translate again, or create a larger one"
        case .protectionChangeFailed(let operation, let error):
            "\(operation) failed on the code buffer (\(error)): the host changed its policy on executable memory; "
                + "use the interpreter"
        }
    }
}
