import Foundation

/// A process put in a cgroup of its own that slows it down (a small CPU quota: it runs and
/// answers, slowly, as on a host whose CPU is stolen: a gray failure) or freezes it (the cgroup
/// freezer: no signal, nothing for its parent to see). cgroup v2 where it is mounted with the controller needed, else cgroup v1. Needs
/// root. ``release()`` thaws, moves the processes back to the root group and removes the cgroup.
public final class CgroupFault: Sendable {
    public enum Kind: Sendable {
        /// `percent` of one CPU, in 100 ms periods.
        case cpu(percent: Int)
        /// Frozen.
        case frozen
    }

    /// The cgroup's directory.
    public let directory: String
    private let procs: String
    private let rootProcs: String
    /// The file and value that thaw the cgroup (nil for a CPU quota).
    private let thaw: (file: String, value: String)?

    /// Puts `pids` into a new cgroup that does `kind` to them.
    public init(pids: [Int32], kind: Kind) throws {
        let name = "lockstep-fault-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fileManager = FileManager.default
        let v2Controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8))
            .map { Set($0.split(whereSeparator: \.isWhitespace).map(String.init)) }
        let period = 100_000
        switch kind {
        case .cpu(let percent):
            let quota = max(1_000, period * percent / 100)
            if let v2Controllers, v2Controllers.contains("cpu") {
                (directory, rootProcs) = ("/sys/fs/cgroup/\(name)", "/sys/fs/cgroup/cgroup.procs")
                try Self.write("+cpu", to: "/sys/fs/cgroup/cgroup.subtree_control", allowFailure: true)
                try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: false)
                try Self.write("\(quota) \(period)", to: directory + "/cpu.max")
            } else if fileManager.fileExists(atPath: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us") {
                (directory, rootProcs) = ("/sys/fs/cgroup/cpu/\(name)", "/sys/fs/cgroup/cpu/cgroup.procs")
                try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: false)
                try Self.write("\(period)", to: directory + "/cpu.cfs_period_us")
                try Self.write("\(quota)", to: directory + "/cpu.cfs_quota_us")
            } else {
                throw FaultInjectionError.setup("no cgroup with the cpu controller (neither cgroup v2's nor /sys/fs/cgroup/cpu): cannot slow a process down")
            }
            thaw = nil
        case .frozen:
            if v2Controllers != nil {
                (directory, rootProcs) = ("/sys/fs/cgroup/\(name)", "/sys/fs/cgroup/cgroup.procs")
                try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: false)
                thaw = (directory + "/cgroup.freeze", "0")
            } else if fileManager.fileExists(atPath: "/sys/fs/cgroup/freezer") {
                (directory, rootProcs) = ("/sys/fs/cgroup/freezer/\(name)", "/sys/fs/cgroup/freezer/cgroup.procs")
                try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: false)
                thaw = (directory + "/freezer.state", "THAWED")
            } else {
                throw FaultInjectionError.setup("no cgroup freezer (neither cgroup v2 nor /sys/fs/cgroup/freezer): cannot freeze a process")
            }
        }
        procs = directory + "/cgroup.procs"
        do {
            for pid in pids { try Self.write("\(pid)", to: procs) }
            if case .frozen = kind, let thaw {
                try Self.write(thaw.file.hasSuffix("freezer.state") ? "FROZEN" : "1", to: thaw.file)
            }
        } catch {
            release()
            throw error
        }
    }

    /// Thaws, moves every process left in the cgroup back to the root group and removes the cgroup.
    public func release() {
        if let thaw { try? Self.write(thaw.value, to: thaw.file) }
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
            throw FaultInjectionError.setup("cannot open \(path) for writing (root is needed to put a process in a cgroup)")
        }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            if allowFailure { return }
            throw FaultInjectionError.setup("writing '\(text)' to \(path): \(error)")
        }
    }
}
