import Foundation

/// Appends one line per output release: "MONOTONIC_NS GENERATION NODE BYTES". The monotonic
/// clock is shared by all processes of a machine, so the lines of two nodes on one machine can be
/// merged in time order: a release by generation g after one by generation g+1 means two
/// primaries released output at once.
final class ReleaseLog {
    private let descriptor: Int32

    init?(path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// One release of `bytes` at `time` (the monotonic clock, seconds; read right after the sends).
    func record(generation: UInt64, node: String, bytes: Int, at time: Double) {
        let ns = UInt64(time * 1e9)
        let line = "\(ns) \(generation) \(node) \(bytes)\n"
        _ = Array(line.utf8).withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
