import FaultInjection
import Foundation
import HostIO
import Testing

/// Mirrored disks with real `lockstep node` processes (issue 15): each node has its own image;
/// files written with `sync` survive a reboot of the replicated guest and two failovers; a node that comes back with the disk it had is
/// resynced with only what changed (counted in extents); disks that cannot be proven equal are
/// refused with a message that says what to do.
@Suite(.serialized) struct DiskFailoverTests {
    static let diskMiB = 64
    /// 64 MiB in extents of 256 KiB.
    static let extents = diskMiB * 4

    /// Two nodes of VM "kv" with a disk each: A's formatted ext4 (the guest mounts it on /data),
    /// B's blank (its first join copies A's in full).
    func cluster(_ name: String) throws -> (Cluster, URL) {
        let directory = temporaryDirectory(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let images = ["A", "B"].map { directory.appendingPathComponent("\($0).img").path }
        try LabCluster.makeImage(diskMiB: Self.diskMiB, at: images[0], formatted: true)
        try LabCluster.makeImage(diskMiB: Self.diskMiB, at: images[1], formatted: false)
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = .file
        options.append = "console=ttyS0 quiet lockstep.data=/dev/vda"
        options.nodeArguments = [["--disk", images[0]], ["--disk", images[1]]]
        return (try Cluster(options: options, directory: directory), directory)
    }

    /// How many extents a primary's log says it planned for a quick resync (nil: none logged).
    func quickResyncExtents(_ log: String) -> Int? {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("quick resync of the backup's disk:") }),
              let range = line.range(of: #"disk: (\d+) of"#, options: .regularExpression) else { return nil }
        return Int(line[range].dropFirst(6).dropLast(3))
    }

    @Test func filesWrittenWithSyncSurviveTwoFailoversAndAReturningNodeResyncsOnlyWhatChanged() throws {
        let (cluster, directory) = try cluster("disk-failover")
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        cluster.nodes[1].extraArguments = ["--resync", "full"]
        try cluster.start()
        #expect(cluster.nodes[1].log.contains("full resync from the primary"), "\(cluster.logs)")
        let one = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "echo first > /data/one; sync; echo w$((1+1))",
                                   expecting: "w2", seconds: 20)
        #expect(one != nil, "\(cluster.logs)")
        // The guest reboots while replicated: both nodes reboot it at the same instruction, it
        // mounts its disk again, and the pair stays protected.
        _ = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "reboot -f", expecting: "rebooting", seconds: 5)
        let afterReboot = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "cat /proc/uptime; cat /data/one",
                                           expecting: "first", seconds: 60)
        #expect(afterReboot != nil, "\(cluster.logs)")
        #expect(cluster.nodes[0].log.contains("the guest rebooted") && cluster.backup == 1, "\(cluster.logs)")
        cluster.nodes[0].kill()
        try cluster.waitUntilLive(1, seconds: 20)
        let read = ConsoleProbe.ask(port: cluster.consolePorts[1], command: "cat /data/one; echo second > /data/two; sync; echo r$((2+1))",
                                    expecting: "r3", seconds: 20)
        #expect(read?.contains("first") == true, "\(read ?? "no answer")\n\(cluster.logs)")
        // A comes back with the disk it had: only what changed crosses.
        cluster.nodes[0].extraArguments = []
        try cluster.rejoin(0)
        let planned = quickResyncExtents(cluster.nodes[1].log)
        #expect(planned != nil, "no quick resync: \(cluster.logs)")
        if let planned { #expect(planned > 0 && planned <= Self.extents / 8, "\(planned) of \(Self.extents) extents: \(cluster.logs)") }
        cluster.nodes[1].kill()
        try cluster.waitUntilLive(0, seconds: 20)
        let both = ConsoleProbe.ask(port: cluster.consolePorts[0], command: "cat /data/one /data/two; echo c$((3+1))",
                                    expecting: "c4", seconds: 20)
        #expect(both?.contains("first") == true && both?.contains("second") == true, "\(both ?? "no answer")\n\(cluster.logs)")
        #expect(cluster.releaseViolations() == [])
    }

    @Test func disksThatCannotBeProvenEqualAreRefusedAndCopiedWhenAsked() throws {
        let (cluster, directory) = try cluster("disk-refusals")
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.startArbiter()
        try cluster.nodes[0].start()
        try cluster.nodes[0].waitForLog("console on", seconds: 60)
        let image = directory.appendingPathComponent("B.img").path
        // A blank image: no record, nothing proves it equal.
        try cluster.nodes[1].start()
        #expect(cluster.nodes[1].waitForExit(seconds: 60) == 3, "\(cluster.logs)")
        #expect(cluster.nodes[1].log.contains("no record") && cluster.nodes[1].log.contains("--resync full"), "\(cluster.logs)")
        // The disk of another VM: refused by the node itself, before it joins.
        try MirroredDisk(path: image, vm: "other").start(instance: Array(repeating: 1, count: 16), generation: 2)
        try cluster.nodes[1].start()
        #expect(cluster.nodes[1].waitForExit(seconds: 60) == 1, "\(cluster.logs)")
        #expect(cluster.nodes[1].log.contains("disk of VM 'other'"), "\(cluster.logs)")
        // This VM's name, but another instance of it (a disk from before the VM was started anew).
        try? FileManager.default.removeItem(atPath: image + ".lockstep")
        try MirroredDisk(path: image, vm: "kv").start(instance: Array(repeating: 2, count: 16), generation: 1)
        try cluster.nodes[1].start()
        #expect(cluster.nodes[1].waitForExit(seconds: 60) == 3, "\(cluster.logs)")
        #expect(cluster.nodes[1].log.contains("another instance"), "\(cluster.logs)")
        // Asked for: copied in full, and the primary's state proves the copy (the disk digest).
        cluster.nodes[1].extraArguments = ["--resync", "full"]
        try cluster.nodes[1].start()
        try cluster.nodes[1].waitForLog("backup of VM", seconds: 120)
        #expect(cluster.nodes[1].log.contains("full resync from the primary") && cluster.nodes[1].log.contains("resync done"),
                "\(cluster.logs)")
    }
}
