import Foundation
import LockstepSupport
import Replication

/// One VM's `lockstep node` on this host: started with the arguments its placement implies,
/// started again when it ends while the VM is still placed here, stopped when it no longer is;
/// what it is doing is read from its status file (`--status-file`, ``NodeRuntimeStatus``), and
/// from its log (the lines docs/replication.md lists) for the last line of interest, and for the
/// role while the file is not there yet.
final class NodeSupervisor {
    let vm: String
    let logURL: URL
    /// The node's `--status-file`.
    let statusURL: URL
    /// What the current node process last wrote there (nil: nothing yet).
    private(set) var runtime: NodeRuntimeStatus?
    /// Go-lives by failover of this VM's nodes on this host, and the last pauses, over every
    /// process this supervisor started (a process that went live reports it until it ends).
    private(set) var failovers = 0
    private(set) var lastFailoverPause: Double?
    private(set) var lastSwitchoverPause: Double?
    /// Failovers of processes that ended.
    private var endedFailovers = 0
    private(set) var arguments: [String]
    private(set) var peer: String?
    private var process: Process?
    private var startedAt = 0.0
    private var restarts = 0
    private(set) var status: NodeStatus.Role = .starting
    private(set) var detail = ""
    private var logOffset: UInt64 = 0
    /// The node's line about a switchover that it refused or abandoned, since the last
    /// ``takeUnfinishedSwitchover()``.
    private var switchoverUnfinished: String?
    /// Whether the VM's primary refused this node's disk and said that only a full copy would
    /// do (``asksForFullResync(_:)``), since the node last became a backup.
    private(set) var needsFullResync = false
    /// The peer (host) the node declared lost, until a line to a node there is up again
    /// (``NodeStatus/lostPeer``).
    private(set) var lostPeer: String?
    /// When ``lostPeer`` was read from the log (seconds since 1970).
    private(set) var lostPeerSince: Double?

    init(vm: String, logURL: URL, statusURL: URL) {
        self.vm = vm
        self.logURL = logURL
        self.statusURL = statusURL
        self.arguments = []
        // The log may hold an earlier node's lines (the VM ran here before): only what this
        // supervisor's nodes write counts.
        let size = (try? FileManager.default.attributesOfItem(atPath: logURL.path)[.size] as? NSNumber)?.uint64Value ?? 0
        logOffset = size
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// Starts the node with `arguments` (peer `peer`) unless it runs; waits a little longer after
    /// each quick end, so a node that cannot start does not spin.
    func ensureRunning(executable: String, arguments: [String], peer: String?, now: Double) {
        if isRunning {
            // A node still joining, started toward another peer: start it again toward the
            // placement's (it waits for a primary that is gone). A synced backup is left alone:
            // it goes live by itself when its primary is lost.
            if peer != self.peer && status == .starting { stopAndWait() } else { return }
        }
        let backoff = min(10.0, 0.5 * Double(1 << min(restarts, 5)))
        if process != nil && now - startedAt < backoff { return }
        if process != nil, let process, (process.terminationStatus != 0 && process.terminationStatus != 4) || now - startedAt < 5 { restarts += 1 } else { restarts = 0 }
        if process != nil {
            // The ended process's last word (its file says `finished`), before the next one's.
            readStatusFile()
            endedFailovers = failovers
            runtime = nil
        }
        try? FileManager.default.removeItem(at: statusURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        if !FileManager.default.fileExists(atPath: logURL.path) { FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        guard let handle = try? FileHandle(forWritingTo: logURL) else { return }
        handle.seekToEndOfFile()
        process.standardError = handle
        do { try process.run() } catch {
            detail = "cannot start \(executable): \(error)"
            status = .stopped
            return
        }
        self.process = process
        self.arguments = arguments
        lostPeer = nil   // a new node has declared nobody lost yet
        self.peer = peer
        startedAt = now
        status = .starting
    }

    /// Asks the node for a planned switchover (SIGUSR1; docs/replication.md).
    func requestSwitchover() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGUSR1)
    }

    /// When SIGTERM was sent (``stop()``), for the SIGKILL that follows if the node lingers.
    private var stopping: Double?

    /// SIGTERM now, without waiting (the agent's round must not block: its lease is renewed
    /// beside it, but its reports are not); ``finishStopping(now:)`` SIGKILLs it 3 s later.
    func stop() {
        guard let process, process.isRunning else { status = .stopped; return }
        process.terminate()
        stopping = Date().timeIntervalSince1970
        status = .stopped
    }

    /// SIGKILL for a node that SIGTERM did not end within 3 s; true once it has ended.
    @discardableResult
    func finishStopping(now: Double) -> Bool {
        guard let process, process.isRunning else { return true }
        if let stopping, now - stopping >= 3 { kill(process.processIdentifier, SIGKILL) }
        return false
    }

    /// Waits for the node to end (at the agent's own end).
    func stopAndWait() {
        stop()
        guard let process else { return }
        let deadline = Date(timeIntervalSinceNow: 3)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// Whether the node is, by its log, the VM's live primary.
    var isLivePrimary: Bool { isRunning && (status == .primary || status == .primaryAlone) }

    /// Reads the status file and the log's new lines, and updates ``status`` and ``detail``.
    func refresh() {
        defer {
            if let process, !process.isRunning { status = .stopped }
        }
        if let handle = try? FileHandle(forReadingFrom: logURL) {
            defer { try? handle.close() }
            handle.seek(toFileOffset: logOffset)
            let data = handle.readDataToEndOfFile()
            logOffset += UInt64(data.count)
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let text = LogfmtLogHandler.message(of: line)
                if let role = Self.role(of: text) {
                    status = isRunning ? role : .stopped
                    if role == .backup { needsFullResync = false }
                }
                if Self.asksForFullResync(text) { needsFullResync = true }
                if Self.endsSwitchoverUnfinished(text) { switchoverUnfinished = text }
                if let lost = Self.lostPeer(in: text) {
                    lostPeer = lost
                    lostPeerSince = Date().timeIntervalSince1970
                }
                if let peer = Self.connectedPeer(in: text), peer == lostPeer { lostPeer = nil }
                if Self.isNotable(text) { detail = String(text.prefix(300)) }
            }
        }
        readStatusFile()
    }

    /// Takes the current process's status file, if it wrote one: the role comes from it.
    private func readStatusFile() {
        guard let file = NodeStatusFile.read(path: statusURL.path) else { return }
        runtime = file
        if isRunning { status = Self.role(of: file) }
        let failoverNow = file.lastGoLive?.kind == .failover ? 1 : 0
        failovers = endedFailovers + failoverNow
        if let goLive = file.lastGoLive {
            switch goLive.kind {
            case .failover: lastFailoverPause = goLive.pauseSeconds
            case .switchover: break
            }
        }
        if let pause = file.switchoverPauseSeconds { lastSwitchoverPause = pause }
    }

    /// The pool's role for what the node says it is.
    static func role(of status: NodeRuntimeStatus) -> NodeStatus.Role {
        switch status.role {
        case .starting, .joining: return .starting
        case .copying: return status.live ? .primaryAlone : .starting
        case .backup: return .backup
        case .primary: return .primary
        case .primaryAlone: return .primaryAlone
        case .finished: return .stopped
        }
    }

    /// The node's line if it refused or abandoned a switchover (its backup not in step, or too
    /// far behind to catch up in the pause) since the last call; read by ``refresh()``.
    func takeUnfinishedSwitchover() -> String? {
        defer { switchoverUnfinished = nil }
        return switchoverUnfinished
    }

    /// A primary's refusal of this node's disk that only a full copy overcomes: a disk without a
    /// record, one whose generation the primary's record no longer reaches (a host that ran the
    /// VM long ago), one of another instance, one whose host went down while it ran. Not a disk
    /// newer than the primary's: that may hold writes the primary lacks (two primaries?), and is
    /// left for an operator to look at.
    static func asksForFullResync(_ line: String) -> Bool {
        line.contains("restart the backup with --resync full") && !line.contains(" is newer ")
    }

    /// A log line that ends a switchover without a handover (docs/replication.md).
    static func endsSwitchoverUnfinished(_ line: String) -> Bool {
        line.contains("switchover abandoned") || line.contains("switchover refused")
    }

    /// The role a node's log line implies, if any (while its status file is not there yet).
    static func role(of line: String) -> NodeStatus.Role? {
        if line.contains("the guest paused") && line.contains("for the initial state") { return .primary }
        if line.contains("backup of VM") { return .backup }
        if line.contains("started VM") || line.contains("won the arbiter") || line.contains("holding output")
            || line.contains("live copy to the backup") || line.contains("booting the guest from it") { return .primaryAlone }
        return nil
    }

    /// The peer a "backup lost: ... (backup 'NAME')" or "primary lost: ... (primary 'NAME')" line names.
    static func lostPeer(in line: String) -> String? {
        for (prefix, role) in [("backup lost: ", "backup"), ("primary lost: ", "primary")] where line.contains(prefix) {
            guard let start = line.range(of: "(\(role) '", options: .backwards) else { continue }
            let name = line[start.upperBound...].prefix { $0 != "'" }
            return name.isEmpty || name == "?" ? nil : String(name)
        }
        return nil
    }

    /// The peer of a "line N up to backup 'NAME'" or "line N up to primary 'NAME'" line.
    static func connectedPeer(in line: String) -> String? {
        guard let range = line.range(of: #"up to (backup|primary) '"#, options: .regularExpression) else { return nil }
        let name = line[range.upperBound...].prefix { $0 != "'" }
        return name.isEmpty ? nil : String(name)
    }

    static func isNotable(_ line: String) -> Bool {
        role(of: line) != nil || line.contains("copy") || line.contains("resync") || line.contains("refused")
            || line.contains("diverged") || line.contains("lost") || line.contains("error") || line.contains("cannot")
    }
}
