import FaultInjection
import Foundation
import Testing

/// Where the built `lockstep` is: next to this test bundle.
func lockstepExecutable() -> String {
    var url = URL(fileURLWithPath: CommandLine.arguments.first ?? "")
    while url.path != "/" {
        let candidate = url.deletingLastPathComponent().appendingPathComponent("lockstep")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        url = url.deletingLastPathComponent()
    }
    return ".build/debug/lockstep"
}

func temporaryDirectory(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-\(name)-\(UUID().uuidString)")
}

/// Removes a test's directory once its cluster has stopped. The tests' failure messages carry the
/// nodes' logs, so nothing in the directory is needed afterwards.
func removeTemporaryDirectory(_ directory: URL) {
    try? FileManager.default.removeItem(at: directory)
}

/// The plain shell guest on two nodes: a file written before SIGKILL of the primary is there after
/// the failover, and the old primary comes back as the new backup.
@Suite(.serialized) struct ShellFailoverTests {
    @Test func aFileWrittenBeforeTheKillIsReadAfterIt() throws {
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = .file
        options.append = "console=ttyS0 quiet"
        let directory = temporaryDirectory("shell")
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        let written = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "echo survived > /tmp/x; echo w$((20+1))", expecting: "w21", seconds: 10)
        #expect(written != nil, "\(cluster.logs)")
        cluster.nodes[0].kill()
        try cluster.waitUntilLive(1, seconds: 10)
        let read = ConsoleProbe.ask(port: cluster.consolePorts[1], command: "cat /tmp/x", expecting: "survived", seconds: 10)
        #expect(read != nil, "\(cluster.logs)")
        try cluster.rejoin(0)
        cluster.nodes[1].kill()
        try cluster.waitUntilLive(0, seconds: 10)
        let again = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "cat /tmp/x", expecting: "survived", seconds: 10)
        #expect(again != nil, "\(cluster.logs)")
        #expect(cluster.releaseViolations() == [])
    }
}

/// Lines silenced while both hosts live: one line is only reported; both (a partition) make
/// exactly one node win the arbiter, and the other stop.
@Suite(.serialized) struct ShellPartitionTests {
    @Test func oneSilentLineIsReportedNotActedOnAndAPartitionLeavesOnePrimary() throws {
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = .file
        options.append = "console=ttyS0 quiet"
        let directory = temporaryDirectory("partition")
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        #expect(ConsoleProbe.ask(port: cluster.consolePorts[0], command: "echo a$((1+1))", expecting: "a2", seconds: 10) != nil)
        cluster.silence(line: 1, true)
        Thread.sleep(forTimeInterval: 2)
        #expect(ConsoleProbe.ask(port: cluster.consolePorts[0], command: "echo b$((2+1))", expecting: "b3", seconds: 5) != nil, "\(cluster.logs)")
        #expect(cluster.primary == 0 && cluster.backup == 1, "\(cluster.logs)")
        #expect(cluster.nodes[0].log.contains("line 2") && cluster.nodes[1].log.contains("line 2"))
        cluster.silence(line: 1, false)
        Thread.sleep(forTimeInterval: 1)
        // Now both lines: a partition.
        cluster.silence(line: 0, true)
        cluster.silence(line: 1, true)
        let deadline = Date(timeIntervalSinceNow: 10)
        while cluster.nodes.allSatisfy(\.isRunning) && Date() < deadline { usleep(20_000) }
        Thread.sleep(forTimeInterval: 1)   // time for a second (wrong) exit to show
        let stopped = (0..<2).map { cluster.nodes[$0].waitForExit(seconds: 0) }
        let survivors = (0..<2).filter { stopped[$0] == nil }
        #expect(survivors.count == 1, "exits \(stopped)\n\(cluster.logs)")
        if let survivor = survivors.first {
            #expect(stopped[1 - survivor] == 2, "the loser exits with status 2")
            #expect(ConsoleProbe.ask(port: cluster.consolePorts[survivor], command: "echo c$((3+1))", expecting: "c4", seconds: 10) != nil, "\(cluster.logs)")
        }
        #expect(cluster.releaseViolations() == [])
    }
}
