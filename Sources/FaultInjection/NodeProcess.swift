import Foundation

/// One `lockstep node` (or `lockstep arbiter`) process, restartable; each incarnation writes its
/// standard error to its own log file.
///
/// With a `namespace`, the process runs in that network namespace through
/// `ip netns exec NAMESPACE EXECUTABLE ARGUMENTS...` (``NetworkLab/spawn(in:name:executable:arguments:directory:)``
/// makes these). `ip` replaces itself with the executable, so the process id, SIGKILL and SIGSTOP
/// are the executable's own.
public final class NodeProcess: @unchecked Sendable {
    public let name: String
    let executable: String
    let arguments: [String]
    let directory: URL
    /// The network namespace the process runs in (nil: this process's own).
    public let namespace: String?
    private let lock = NSLock()
    private var current: Process?
    private var retired = false
    private var incarnationCount = 0
    /// Arguments added after `arguments` when the process starts (for one incarnation's
    /// options, such as a backup's first `--resync full`).
    public var extraArguments: [String] = []

    public init(name: String, executable: String, arguments: [String], directory: URL, namespace: String? = nil) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.directory = directory
        self.namespace = namespace
    }

    /// How many times the process was started.
    public var incarnation: Int { lock.withLock { incarnationCount } }

    /// The current incarnation (nil before the first start).
    private var process: Process? { lock.withLock { current } }

    /// The current incarnation's process id (nil before the first start).
    public var processIdentifier: Int32? { process?.processIdentifier }

    /// The current incarnation's log.
    public var logURL: URL { directory.appendingPathComponent("\(name)-\(incarnation).log") }

    public var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process?.isRunning ?? false }

    /// Starts a new incarnation. Throws once the process is retired (its lab torn down).
    public func start() throws {
        // Under the lock to the end, so that a ``retire()`` from another thread either comes
        // first (and nothing starts) or finds the new incarnation (and kills it).
        lock.lock()
        defer { lock.unlock() }
        guard !retired else {
            throw FaultInjectionError.setup("\(name) cannot start: its lab has been torn down (the soak was interrupted or has ended)")
        }
        incarnationCount += 1
        let logURL = directory.appendingPathComponent("\(name)-\(incarnationCount).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let process = Process()
        if let namespace {
            guard let ip = NetworkLab.ipExecutable else {
                throw FaultInjectionError.setup("cannot run \(name) in namespace \(namespace): `ip` not found (install iproute2)")
            }
            process.executableURL = URL(fileURLWithPath: ip)
            process.arguments = ["netns", "exec", namespace, executable] + arguments + extraArguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments + extraArguments
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
        current = process
    }

    /// SIGKILL: no goodbye, no flushing, as when a host dies.
    public func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Kills the process for good: ``start()`` throws from now on. What a lab's teardown does, from
    /// whichever thread, while another may be about to restart the process.
    public func retire() {
        lock.withLock { retired = true }
        kill()
    }

    /// SIGSTOP: the process freezes, sockets and all, as a host that stalls (or a VM that its
    /// hypervisor pauses); ``resume()`` thaws it.
    public func freeze() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGSTOP)
    }

    public func resume() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
    }

    /// The exit status, once the process has ended within `seconds`.
    public func waitForExit(seconds: Double) -> Int32? {
        guard let process else { return nil }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Waits until the current log contains `text` (after its first `offset` characters: pass
    /// the log's length before an event to wait for a new line only).
    public func waitForLog(_ text: String, after offset: Int = 0, seconds: Double) throws {
        let deadline = Date(timeIntervalSinceNow: seconds)
        func found() -> Bool { log.dropFirst(offset).contains(text) }
        while Date() < deadline {
            if found() { return }
            if !isRunning, !found() {
                throw FaultInjectionError.setup("\(name) exited before logging '\(text)'; its log:\n\(log)")
            }
            usleep(20_000)
        }
        throw FaultInjectionError.timeout("\(name) did not log '\(text)' within \(seconds) s; its log:\n\(log)")
    }
}

extension Array where Element == NodeProcess {
    /// The index of the node that is the live primary now (running, and its current incarnation
    /// went live and did not stop).
    var livePrimary: Int? {
        indices.first { index in
            let log = self[index].log
            return self[index].isRunning && log.contains("console on") && !log.contains("stopping")
        }
    }

    /// Every incarnation's log of each process, each cut to its last `lines` lines, for a failure report.
    func logs(in directory: URL, lastLines lines: Int = .max) -> String {
        var text = ""
        for process in self {
            for incarnation in 1...Swift.max(1, process.incarnation) {
                let url = directory.appendingPathComponent("\(process.name)-\(incarnation).log")
                text += "--- \(process.name) #\(incarnation)\n" + LogTail.lastLines(of: url, lines) + "\n"
            }
        }
        return text
    }
}
