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

/// The plain shell guest on two nodes: a file written before SIGKILL of the primary is there after
/// the failover, and the old primary comes back as the new backup.
@Suite(.serialized) struct ShellFailoverTests {
    @Test func aFileWrittenBeforeTheKillIsReadAfterIt() throws {
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = .file
        options.append = "console=ttyS0 quiet"
        let cluster = try Cluster(options: options, directory: temporaryDirectory("shell"))
        defer { cluster.stop() }
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
