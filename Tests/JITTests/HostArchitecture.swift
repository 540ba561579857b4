import Testing

/// What the host can run: the code buffer tests execute x86-64 code.
enum HostArchitecture {
    #if arch(x86_64)
    static let isX86_64 = true
    #else
    static let isX86_64 = false
    #endif

    static let notX86Message: Comment = "runs generated x86-64 code: needs an x86-64 host"
}
