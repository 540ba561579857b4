import Foundation
import NIOConcurrencyHelpers

/// `lockstep node --status-file PATH`: the node's ``NodeRuntimeStatus`` as JSON, replaced
/// atomically (written beside it, then renamed over it) every ``interval`` seconds and at once
/// when the role changes, so that a reader never sees half a file.
public final class NodeStatusFile: @unchecked Sendable {
    public let path: String
    /// Seconds between two writes of an unchanged role.
    public static let interval = 0.5
    private let lock = NIOLock()
    private var lastWrite = -Double.infinity
    private var lastRole: NodeRuntimeStatus.Role?
    private var reportedFailure = false
    private let log: NodeLog?

    /// `log` hears of the first write that fails (the node runs on without its status file).
    public init(path: String, log: NodeLog? = nil) {
        self.path = path
        self.log = log
    }

    /// Writes `status` if it is due at `now` (the monotonic clock): its role changed, or the
    /// last write is ``interval`` old.
    public func offer(_ status: NodeRuntimeStatus, now: Double) {
        let due = lock.withLock { status.role != lastRole || now - lastWrite >= Self.interval }
        if due { write(status, now: now) }
    }

    /// Writes `status` now.
    public func write(_ status: NodeRuntimeStatus, now: Double) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let temporary = path + ".tmp"
        let failure: String? = lock.withLock {
            lastWrite = now
            lastRole = status.role
            do {
                try encoder.encode(status).write(to: URL(fileURLWithPath: temporary))
                guard rename(temporary, path) == 0 else { return "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))" }
                return nil
            } catch {
                return "cannot write \(temporary): \(error)"
            }
        }
        if let failure, !reportedFailure {
            reportedFailure = true
            log?("status file: \(failure); the node runs on without it (check the directory and its space)")
        }
    }

    /// The status in the file at `path` (nil: none, or not a status).
    public static func read(path: String) -> NodeRuntimeStatus? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(NodeRuntimeStatus.self, from: data)
    }
}
