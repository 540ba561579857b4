import Foundation

/// A gray failure for a process: a cgroup of its own with a small CPU quota, so that it runs, and
/// answers, but slowly (as on a host whose CPU is stolen). cgroup v2 (`cpu.max`) where the `cpu`
/// controller is available there, else cgroup v1 (`cpu.cfs_quota_us`). Needs root.
/// ``release()`` moves the processes back to the root group and removes the cgroup.
public final class CPUThrottle: Sendable {
    /// The cgroup's directory.
    public let directory: String
    private let procs: String
    private let rootProcs: String

    /// Puts `pids` into a new cgroup allowed `percent` of one CPU (in 100 ms periods).
    public init(pids: [Int32], percent: Int) throws {
        let name = "lockstep-throttle-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let period = 100_000, quota = max(1_000, period * percent / 100)
        let fileManager = FileManager.default
        if let controllers = try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8),
           controllers.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "cpu" }) {
            directory = "/sys/fs/cgroup/\(name)"
            rootProcs = "/sys/fs/cgroup/cgroup.procs"
            try Self.write("+cpu", to: "/sys/fs/cgroup/cgroup.subtree_control", allowFailure: true)
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try Self.write("\(quota) \(period)", to: directory + "/cpu.max")
        } else if fileManager.fileExists(atPath: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us") {
            directory = "/sys/fs/cgroup/cpu/\(name)"
            rootProcs = "/sys/fs/cgroup/cpu/cgroup.procs"
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try Self.write("\(period)", to: directory + "/cpu.cfs_period_us")
            try Self.write("\(quota)", to: directory + "/cpu.cfs_quota_us")
        } else {
            throw FaultInjectionError.setup("no cgroup with the cpu controller (neither /sys/fs/cgroup/cgroup.controllers nor /sys/fs/cgroup/cpu): cannot slow a process down")
        }
        procs = directory + "/cgroup.procs"
        do {
            for pid in pids { try Self.write("\(pid)", to: procs) }
        } catch {
            release()
            throw error
        }
    }

    /// Moves every process left in the cgroup back to the root group and removes the cgroup.
    public func release() {
        for _ in 0..<50 {
            let left = ((try? String(contentsOfFile: procs, encoding: .utf8)) ?? "").split(separator: "\n")
            for pid in left { try? Self.write(String(pid), to: rootProcs) }
            if rmdir(directory) == 0 || errno == ENOENT { return }
            usleep(20_000)
        }
    }

    private static func write(_ text: String, to path: String, allowFailure: Bool = false) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            if allowFailure { return }
            throw FaultInjectionError.setup("cannot open \(path) for writing (root is needed to slow a process down)")
        }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            if allowFailure { return }
            throw FaultInjectionError.setup("writing '\(text)' to \(path): \(error)")
        }
    }
}
