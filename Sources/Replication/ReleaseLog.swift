import Foundation

/// Appends one line per output a primary wrote: "DECIDED_NS DONE_NS GENERATION NODE BYTES". The
/// monotonic clock is shared by all processes of a machine, so the lines of two nodes on one
/// machine can be merged in time order (`ReleaseLogCheck` in FaultInjection).
///
/// DECIDED is the clock reading that allowed the write (with a backup: the lease was still valid
/// then), taken right before it on the thread that wrote; DONE is read right after the write
/// returned. The write's system call lies between the two. A process stopped between them shows
/// a DONE after the stop: most often the write had left before (a stop takes effect as the
/// system call returns), rarely only after the thaw; the two times cannot tell which.
final class ReleaseLog {
    /// One output written.
    struct Write {
        /// Seconds, monotonic clock: the reading that decided the write, and the one after it.
        var decided: Double
        var done: Double
        var bytes: Int
    }

    private let descriptor: Int32

    init?(path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The outputs of one release, one line each, in one append.
    func record(generation: UInt64, node: String, _ writes: [Write]) {
        guard !writes.isEmpty else { return }
        var text = ""
        for write in writes {
            text += "\(UInt64(write.decided * 1e9)) \(UInt64(write.done * 1e9)) \(generation) \(node) \(write.bytes)\n"
        }
        _ = Array(text.utf8).withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
    }
}
