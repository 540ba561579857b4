import FaultInjection
import Foundation
import Testing

/// `lockstep-soak` stopped by SIGTERM or SIGINT (an operator's Ctrl-C, a CI job's timeout) once
/// its lab is up: it must take down what it made, as a normal end does (``SignalTeardown``). Runs
/// `lockstep-soak disk` as a child, waits until its lab's namespaces exist and node A runs, sends
/// the signal, and checks that the soak ended by that signal with none of its namespaces, none of
/// its child processes and none of its disk images left; its logs stay.
@Suite(.serialized, .enabled(if: NetworkLab.isAvailable, "needs root and iproute2 (network namespaces)"))
struct SoakTeardownTests {
    /// The `lockstep-soak` built next to `lockstep`.
    static var soakExecutable: String {
        URL(fileURLWithPath: lockstepExecutable()).deletingLastPathComponent().appendingPathComponent("lockstep-soak").path
    }

    /// The processes whose parent is `pid`, with their command lines.
    static func children(of pid: Int32) -> [(pid: Int32, commandLine: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> (Int32, String)? in
            guard let child = Int32(entry), isAlive(child),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // "pid (comm) state ppid ...": the fields after the command name.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, Int32(fields[1]) == pid else { return nil }
            let commandLine = (FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") ?? Data())
                .split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            return (child, commandLine)
        }
    }

    /// Whether `pid` is a process that has not ended (a zombie has ended).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// The lab namespaces made by process `pid` (their names end in `p<pid>-<name>`).
    static func namespaces(of pid: Int32) -> [String] {
        NetworkLab.namespaceNames().filter { $0.contains("p\(pid)-") }
    }

    /// Starts `lockstep-soak ARGUMENTS` with its temporary directory (its logs, disk images, etcd
    /// data) inside `directory`, its output in `directory/soak.out`.
    static func startSoak(_ arguments: [String], in directory: URL) throws -> (Process, output: URL) {
        let soak = Process()
        soak.executableURL = URL(fileURLWithPath: Self.soakExecutable)
        soak.arguments = arguments
        // The soak's temporary directory (its logs and disk images) inside the test's.
        soak.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": directory.path]) { $1 }
        let output = directory.appendingPathComponent("soak.out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        soak.standardOutput = try FileHandle(forWritingTo: output)
        soak.standardError = soak.standardOutput
        soak.standardInput = FileHandle.nullDevice
        // This test runs on a Dispatch worker thread, which blocks SIGINT and SIGTERM; a child
        // inherits that mask, and would not get the signals as it does when started from a
        // shell. So it is started with them unblocked.
        var signals = sigset_t(), previous = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try soak.run()
        return (soak, output)
    }

    /// The processes whose command line mentions `text` (the soak's directory: its agents,
    /// nodes and etcd members, whoever their parent is).
    /// After a failed expectation: SIGTERM first (the soak's own teardown), SIGKILL after 60 s,
    /// then any process still running from the test's directory, so that nothing outlives the test.
    static func stop(_ soak: Process, leftoversMentioning path: String) {
        if soak.isRunning {
            kill(soak.processIdentifier, SIGTERM)
            let deadline = Date(timeIntervalSinceNow: 60)
            while soak.isRunning && Date() < deadline { usleep(50_000) }
            if soak.isRunning { kill(soak.processIdentifier, SIGKILL) }
            soak.waitUntilExit()
        }
        for leftover in processes(mentioning: path) { kill(leftover, SIGKILL) }
    }

    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry), isAlive(pid), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return String(decoding: data, as: UTF8.self).contains(text) ? pid : nil
        }
    }

    /// `lockstep-soak pool` stopped by SIGTERM once its pool runs (both VMs placed, their nodes
    /// started by the agents): no namespace, no agent, node or etcd member, no disk image and no
    /// etcd data is left; the logs stay.
    @Test func aSignalTearsThePoolLabDown() throws {
        let directory = temporaryDirectory("pool-soak-teardown")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { removeTemporaryDirectory(directory) }
        let (soak, output) = try Self.startSoak(["pool", "--lockstep", lockstepExecutable(), "--lockstep-kv", lockstepKVExecutable(), "--rounds", "1"],
                                                in: directory)
        let pid = soak.processIdentifier
        defer { Self.stop(soak, leftoversMentioning: directory.path) }
        var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        func images() -> [String] { ((try? FileManager.default.subpathsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".img") } }
        let deadline = Date(timeIntervalSinceNow: 180)
        // Up: three agents, three etcd members and four nodes (two VMs on two hosts each), seen
        // at one moment (under load an agent may be starting a node again a moment later, or
        // copying a fifth image: the teardown must handle that too).
        var up = false
        while Date() < deadline, soak.isRunning, !up {
            up = images().count >= 4 && Self.processes(mentioning: directory.path).count >= 3 + 3 + 4
            if !up { usleep(100_000) }
        }
        try #require(up && soak.isRunning,
                     "the soak's pool did not come up: processes \(Self.processes(mentioning: directory.path)), images \(images()) \(text)")

        kill(pid, SIGTERM)
        let stopped = Date(timeIntervalSinceNow: 120)
        while soak.isRunning && Date() < stopped { usleep(50_000) }
        try #require(!soak.isRunning, "the soak did not end within 120 s of the signal: \(text)")
        #expect(soak.terminationReason == .uncaughtSignal && soak.terminationStatus == SIGTERM, "\(text)")
        #expect(Self.namespaces(of: pid).isEmpty, "namespaces left: \(Self.namespaces(of: pid))")
        #expect(Self.processes(mentioning: directory.path).isEmpty, "processes left: \(Self.processes(mentioning: directory.path))")
        #expect(images().isEmpty, "disk images left: \(images())")
        let left = (try? FileManager.default.subpathsOfDirectory(atPath: directory.path)) ?? []
        #expect(!left.contains { $0.hasSuffix("/etcd") }, "etcd's data left: \(left)")
        #expect(left.contains { $0.hasSuffix("r1.log") }, "the nodes' logs are kept: \(left)")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalTearsTheLabDown(signal: Int32) throws {
        let directory = temporaryDirectory("soak-teardown")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { removeTemporaryDirectory(directory) }
        let (soak, output) = try Self.startSoak(["disk", "--lockstep", lockstepExecutable(), "--lockstep-kv", lockstepKVExecutable(), "--rounds", "1"],
                                                 in: directory)
        let pid = soak.processIdentifier
        defer { Self.stop(soak, leftoversMentioning: directory.path) }
        var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        // Up: all five namespaces, and node A started (a `lockstep node` child of the soak).
        let deadline = Date(timeIntervalSinceNow: 180)
        var children: [(pid: Int32, commandLine: String)] = []
        while Date() < deadline, soak.isRunning {
            children = Self.children(of: pid)
            if Self.namespaces(of: pid).count == LabNamespace.allCases.count, children.contains(where: { $0.commandLine.contains(" node ") }) {
                break
            }
            usleep(100_000)
        }
        try #require(soak.isRunning && children.contains { $0.commandLine.contains(" node ") },
                     "the soak's lab did not come up: \(text)")
        let images = try FileManager.default.subpathsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".img") }
        #expect(images.count == 2, "the disk images before the signal: \(images)")

        kill(pid, signal)
        let stopped = Date(timeIntervalSinceNow: 120)
        while soak.isRunning && Date() < stopped { usleep(50_000) }
        try #require(!soak.isRunning, "the soak did not end within 120 s of the signal: \(text)")

        #expect(soak.terminationReason == .uncaughtSignal && soak.terminationStatus == signal,
                "not ended by the signal: \(soak.terminationReason == .exit ? "exit" : "signal") \(soak.terminationStatus)\n\(text)")
        #expect(Self.namespaces(of: pid).isEmpty, "namespaces left: \(Self.namespaces(of: pid))")
        let left = children.filter { Self.isAlive($0.pid) }
        #expect(left.isEmpty, "child processes left: \(left)")
        let imagesLeft = try FileManager.default.subpathsOfDirectory(atPath: directory.path).filter { $0.contains(".img") }
        #expect(imagesLeft.isEmpty, "disk images left: \(imagesLeft)")
        #expect(text.contains(signal == SIGTERM ? "SIGTERM" : "SIGINT") && text.contains("logs: "), "\(text)")
        let logs = try FileManager.default.subpathsOfDirectory(atPath: directory.path).filter { $0.hasSuffix("A-1.log") }
        #expect(!logs.isEmpty, "node A's log is kept")
    }
}
