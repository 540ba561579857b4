import FaultInjection
import Foundation
import HostIO
import Testing

/// Mirrored disks with real `lockstep node` processes (issue 15): each node has its own images;
/// files written with `sync` on the first disk and raw data on the second survive a reboot of the
/// replicated guest and two failovers; a node that comes back with the disks it had is resynced
/// with only what changed on each (counted in extents); disks that cannot be proven equal, or a
/// backup with fewer disks than the VM, are refused with a message that says what to do.
@Suite(.serialized) struct DiskFailoverTests {
    static let diskMiB = 64
    /// 64 MiB in extents of 256 KiB.
    static let extents = diskMiB * 4
    /// The second disk of the two-disk VM (raw, written with dd).
    static let secondDiskMiB = 16

    /// Two nodes of VM "kv" with a disk each: A's formatted ext4 (the guest mounts it on /data),
    /// B's blank (its first join copies A's in full). With `disks: 2`, each node has a second,
    /// blank disk (/dev/vdb): A's is in its arguments, B's is left out (the test adds it with
    /// `extraArguments`, after showing that a backup without it is refused).
    func cluster(_ name: String, disks: Int = 1) throws -> (Cluster, URL) {
        let directory = temporaryDirectory(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let images = ["A", "B"].map { directory.appendingPathComponent("\($0).img").path }
        try LabCluster.makeImage(diskMiB: Self.diskMiB, at: images[0], formatted: true)
        try LabCluster.makeImage(diskMiB: Self.diskMiB, at: images[1], formatted: false)
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = .file
        options.append = "console=ttyS0 quiet lockstep.data=/dev/vda"
        options.nodeArguments = [["--disk", images[0]], ["--disk", images[1]]]
        if disks == 2 {
            for node in ["A", "B"] {
                try LabCluster.makeImage(diskMiB: Self.secondDiskMiB, at: secondImage(node, in: directory), formatted: false)
            }
            options.nodeArguments[0] += ["--disk", secondImage("A", in: directory)]
        }
        return (try Cluster(options: options, directory: directory), directory)
    }

    /// Node `node`'s second disk image.
    func secondImage(_ node: String, in directory: URL) -> String {
        directory.appendingPathComponent("\(node)2.img").path
    }

    /// How many extents a primary's log says it planned for a quick resync of disk `disk` (1 or
    /// 2) of a VM with two disks (nil: none logged).
    func quickResyncExtents(_ log: String, disk: Int) -> Int? {
        let marker = "quick resync of the backup's disk \(disk) of 2: "
        guard let line = log.split(separator: "\n").last(where: { $0.contains(marker) }),
              let start = line.range(of: marker)?.upperBound else { return nil }
        return Int(line[start...].prefix { $0.isNumber })
    }

    @Test func filesOnTwoDisksSurviveTwoFailoversAndAReturningNodeResyncsOnlyWhatChangedOnEach() throws {
        let (cluster, directory) = try cluster("disk-failover", disks: 2)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        try cluster.startArbiter()
        try cluster.nodes[0].start()
        try cluster.nodes[0].waitForLog("console on", seconds: 60)
        // A backup with one disk where the VM has two: refused, saying what to do.
        try cluster.nodes[1].start()
        #expect(cluster.nodes[1].waitForExit(seconds: 60) == 3, "\(cluster.logs)")
        #expect(cluster.nodes[1].log.contains("has 2 disks, this backup 1 disk") && cluster.nodes[1].log.contains("--disk given 2 times"),
                "\(cluster.logs)")
        cluster.nodes[1].extraArguments = ["--disk", secondImage("B", in: directory), "--resync", "full"]
        try cluster.nodes[1].start()
        try cluster.nodes[1].waitForLog("backup of VM", seconds: 60)
        #expect(cluster.nodes[1].log.contains("full resync of disk 1 of 2") && cluster.nodes[1].log.contains("full resync of disk 2 of 2"),
                "\(cluster.logs)")
        // /data is the first disk's filesystem (/dev/vda); the second disk is /dev/vdb, written raw.
        let one = ConsoleProbe.ask(port: cluster.consolePorts[0],
                                   command: "echo first > /data/one; echo -n SECOND-ONE | dd of=/dev/vdb bs=512 seek=8 conv=notrunc 2>/dev/null; sync; echo w$((1+1))",
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
        let read = ConsoleProbe.ask(port: cluster.consolePorts[1],
                                    command: "cat /data/one; dd if=/dev/vdb bs=512 skip=8 count=1 2>/dev/null | head -c 10; echo; echo second > /data/two; echo -n SECOND-TWO | dd of=/dev/vdb bs=512 seek=2048 conv=notrunc 2>/dev/null; sync; echo r$((2+1))",
                                    expecting: "r3", seconds: 20)
        #expect(read?.contains("first") == true && read?.contains("SECOND-ONE") == true, "\(read ?? "no answer")\n\(cluster.logs)")
        // A comes back with the disks it had: only what changed on each crosses.
        cluster.nodes[0].extraArguments = []
        try cluster.rejoin(0)
        for disk in 1...2 {
            let planned = quickResyncExtents(cluster.nodes[1].log, disk: disk)
            #expect(planned != nil, "no quick resync of disk \(disk): \(cluster.logs)")
            if let planned { #expect(planned > 0 && planned <= Self.extents / 8, "disk \(disk): \(planned) extents: \(cluster.logs)") }
        }
        cluster.nodes[1].kill()
        try cluster.waitUntilLive(0, seconds: 20)
        let both = ConsoleProbe.ask(port: cluster.consolePorts[0],
                                    command: "cat /data/one /data/two; for s in 8 2048; do dd if=/dev/vdb bs=512 skip=$s count=1 2>/dev/null | head -c 10; echo; done; echo c$((3+1))",
                                    expecting: "c4", seconds: 20)
        for text in ["first", "second", "SECOND-ONE", "SECOND-TWO"] {
            #expect(both?.contains(text) == true, "\(text): \(both ?? "no answer")\n\(cluster.logs)")
        }
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
