import FaultInjection
import Foundation
import Testing

/// A primary on the JIT and a backup on the interpreter (and the other way round after a
/// failover and a rejoin): the engines give identical results at every instruction count, so the
/// backup follows the primary's log and takes over with the guest's state intact.
@Suite(.serialized) struct MixedEngineFailoverTests {
    @Test func aJITPrimaryAndAnInterpreterBackupFailOverBothWays() throws {
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = .file
        options.append = "console=ttyS0 quiet"
        options.nodeArguments = [["--engine", "jit"], ["--engine", "interpreter"]]
        let directory = temporaryDirectory("mixed-engines")
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        let written = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "echo engines > /tmp/x; echo w$((20+1))", expecting: "w21", seconds: 10)
        #expect(written != nil, "\(cluster.logs)")
        #expect(cluster.nodes[1].log.contains("runs on the interpreter engine"), "\(cluster.logs)")

        // The JIT primary dies: the interpreter backup goes live with the guest's file.
        cluster.nodes[0].kill()
        try cluster.waitUntilLive(1, seconds: 10)
        let read = ConsoleProbe.ask(port: cluster.consolePorts[1], command: "cat /tmp/x; echo r$((30+1))", expecting: "r31", seconds: 10)
        #expect(read?.contains("engines") == true, "\(cluster.logs)")

        // Node 0 rejoins as the backup, now on the JIT, and takes over in turn.
        try cluster.rejoin(0)
        #expect(cluster.nodes[0].log.contains("runs on the jit engine"), "\(cluster.logs)")
        _ = ConsoleProbe.ask(port: cluster.consolePorts[1], command: "echo more >> /tmp/x; echo m$((40+1))", expecting: "m41", seconds: 10)
        cluster.nodes[1].kill()
        try cluster.waitUntilLive(0, seconds: 10)
        let again = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "cat /tmp/x; echo a$((50+1))", expecting: "a51", seconds: 10)
        #expect(again?.contains("engines") == true && again?.contains("more") == true, "\(cluster.logs)")
        #expect(cluster.releaseViolations() == [])
    }
}
