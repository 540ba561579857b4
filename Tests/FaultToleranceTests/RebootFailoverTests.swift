import FaultInjection
import Foundation
import Testing

/// A replicated guest that reboots stays replicated: both nodes reboot the machine at the same
/// instruction count (the reboot is an entry in the log), the pair stays protected, and after a
/// SIGKILL of the primary the backup goes live with the rebooted guest. A power-off stops both
/// nodes with the guest's status.
@Suite(.serialized) struct RebootFailoverTests {
    @Test func aRebootedGuestStaysReplicatedFailsOverAndItsPowerOffStopsBothNodes() throws {
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = .file
        options.append = "console=ttyS0 quiet"
        let directory = temporaryDirectory("reboot")
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.start()
        let before = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "echo before > /tmp/x; echo b$((20+1))", expecting: "b21", seconds: 10)
        #expect(before != nil, "\(cluster.logs)")

        // Typed once (a second `reboot -f` would reboot again).
        let restarting = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "reboot -f", expecting: "Restarting", seconds: 20, resendEvery: 1e9)
        #expect(restarting != nil, "\(cluster.logs)")
        try cluster.nodes[0].waitForLog("the guest rebooted at instruction", seconds: 30)
        try cluster.nodes[1].waitForLog("the guest rebooted at instruction", seconds: 30)
        // The rebooted guest's shell (its /tmp is new), still on node A, still with its backup.
        let after = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "ls /tmp/x 2>&1; echo after > /tmp/y; echo a$((30+1))",
                                     expecting: "a31", seconds: 120)
        #expect(after?.contains("No such file") == true, "\(after ?? "no answer")\n\(cluster.logs)")
        let bothRunning = cluster.nodes.allSatisfy(\.isRunning)
        #expect(bothRunning, "\(cluster.logs)")
        #expect(cluster.primary == 0 && cluster.backup == 1, "\(cluster.logs)")
        #expect(!cluster.nodes[0].log.contains("stops instead") && !cluster.nodes[1].log.contains("diverged"), "\(cluster.logs)")

        // The primary dies: the backup goes live with the rebooted guest.
        cluster.nodes[0].kill()
        try cluster.waitUntilLive(1, seconds: 30)
        let read = ConsoleProbe.ask(port: cluster.consolePorts[1], command: "cat /tmp/y; ls /tmp/x 2>&1", expecting: "No such file", seconds: 10)
        #expect(read?.contains("after") == true, "\(read ?? "no answer")\n\(cluster.logs)")

        // A joins B as the new backup (the snapshot carries the boot image); then the guest
        // powers off: both nodes stop with its status.
        try cluster.rejoin(0)
        _ = ConsoleProbe.ask(port: cluster.consolePorts[1], command: "poweroff -f", expecting: "Power down", seconds: 20, resendEvery: 1e9)
        #expect(cluster.nodes[1].waitForExit(seconds: 30) == 0, "\(cluster.logs)")
        #expect(cluster.nodes[0].waitForExit(seconds: 30) == 0, "\(cluster.logs)")
        #expect(cluster.releaseViolations() == [])
    }
}
