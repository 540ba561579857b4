import Foundation
import Testing

/// Recordings and snapshots of machines with a disk, as a user runs them: the guest writes its
/// disk during a recorded session, and the replay needs no hand-kept copy (`run --record` keeps
/// the disk as it was at the start in LOG.disk); a snapshot keeps the disk as it was at its
/// instruction (SNAPSHOT.disk) and `run --restore` continues on a copy of it, so the snapshot
/// stays restorable; a changed disk is refused.
@Suite(.serialized) struct DiskSessionCommandTests {
    static func image(_ name: String, contents: String = "ORIGINAL-DISK", megabytes: Int = 4) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-\(name)-\(getpid()).img")
        var bytes = [UInt8](repeating: 0, count: megabytes << 20)
        bytes.replaceSubrange(0..<contents.utf8.count, with: Array(contents.utf8))
        try Data(bytes).write(to: url)
        return url
    }

    /// Two disks, as a user gives them: the first --disk is /dev/vda, the second /dev/vdb (read
    /// in the guest by each disk's serial, size and contents); a recorded session that writes
    /// the second keeps both as they were (LOG.disk, LOG.disk2) and replays; a snapshot keeps
    /// both (SNAPSHOT.disk, SNAPSHOT.disk2), restores on copies of them, and refuses a changed
    /// second disk.
    @Test func twoDisksAreVdaAndVdbInOrderAndRecordingsAndSnapshotsKeepBoth() throws {
        try LinuxBootTests.requireImages()
        let first = try Self.image("first-disk", contents: "FIRST-DISK", megabytes: 4)
        let second = try Self.image("second-disk", contents: "SECOND-DISK", megabytes: 6)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-two-disks-\(getpid()).log")
        let snapshot = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-two-disks-\(getpid()).snap")
        defer {
            for url in [first, second, log, snapshot] + ["disk", "disk2"].flatMap({ [log.appendingPathExtension($0), snapshot.appendingPathExtension($0)] }) {
                try? FileManager.default.removeItem(at: url)
            }
        }
        let session = try ConsoleSession(executable: LinuxBootTests.lockstep,
                                         arguments: ["run", "--disk", first.path, "--disk", second.path, "--record", log.path])
        try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.bootTimeout)
        for (device, serial, contents, sectors) in [("vda", "lockstep-disk", "FIRST-DISK", 8192), ("vdb", "lockstep-disk2", "SECOND-DISK", 12288)] {
            let seen = try LinuxBootTests.run(session, "echo $(cat /sys/block/\(device)/serial) $(cat /sys/block/\(device)/size) $(head -c \(contents.count) /dev/\(device))")
            #expect(seen == "\(serial) \(sectors) \(contents)", "/dev/\(device): \(seen)")
        }
        #expect(try LinuxBootTests.run(session, "ls /sys/block | grep vd | tr '\\n' ' '") == "vda vdb ")
        session.send(line: "echo -n WRITTEN-ON-VDB | dd of=/dev/vdb bs=512 seek=1 conv=notrunc 2>/dev/null; sync; echo written")
        try session.expect("\nwritten\r\n", timeout: LinuxBootTests.commandTimeout)
        session.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: LinuxBootTests.commandTimeout) == 0)
        #expect(session.transcript.contains("disk 1 (/dev/vda) as it was at the start is saved in \(log.path).disk "))
        #expect(session.transcript.contains("disk 2 (/dev/vdb) as it was at the start is saved in \(log.path).disk2 "))
        #expect(try Data(contentsOf: second).subdata(in: 512..<526) == Data("WRITTEN-ON-VDB".utf8))
        #expect(try Data(contentsOf: log.appendingPathExtension("disk2")).subdata(in: 512..<526) == Data(count: 14))
        let replay = try RecordReplayCommandTests.run(["replay", log.path])
        #expect(replay.status == 0, "\(replay.stderr)")
        // The disks given in the other order are refused by content hash.
        let swapped = try RecordReplayCommandTests.run(["replay", log.path, "--disk", log.appendingPathExtension("disk2").path,
                                                        "--disk", log.appendingPathExtension("disk").path])
        #expect(swapped.status == 1 && swapped.stderr.contains("differs from the one the session was recorded with"), "\(swapped.stderr)")

        let taken = try RecordReplayCommandTests.run(["snapshot", "--at", "140000000", "--disk", first.path, "--disk", second.path,
                                                      "--output", snapshot.path])
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stderr.contains("saved in \(snapshot.path).disk2"), "\(taken.stderr)")
        let restored = try ConsoleSession(executable: LinuxBootTests.lockstep, arguments: ["run", "--restore", snapshot.path])
        restored.send(line: "echo $(head -c 10 /dev/vda) $(dd if=/dev/vdb bs=512 skip=1 count=1 2>/dev/null | head -c 14); echo restored-done")
        try restored.expect("\nrestored-done\r\n", timeout: LinuxBootTests.commandTimeout)
        #expect(restored.transcript.contains("FIRST-DISK WRITTEN-ON-VDB"), "\(restored.transcript.suffix(500))")
        restored.send(line: "poweroff -f")
        #expect(restored.waitForExit(timeout: LinuxBootTests.commandTimeout) == 0)
        // The second disk changed since: refused, naming it; only the first given: refused.
        let handle = try FileHandle(forWritingTo: second)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data("CHANGED".utf8))
        try handle.close()
        let changed = try RecordReplayCommandTests.run(["run", "--restore", snapshot.path, "--disk", first.path, "--disk", second.path])
        #expect(changed.status == 1 && changed.stderr.contains("disk 2 of 2: its contents differ"), "\(changed.stderr)")
        let one = try RecordReplayCommandTests.run(["run", "--restore", snapshot.path, "--disk", first.path])
        #expect(one.status == 1 && one.stderr.contains("taken with 2 disks"), "\(one.stderr)")
    }

    @Test func aRecordedSessionThatWritesItsDiskReplaysWithoutAHandKeptCopy() throws {
        try LinuxBootTests.requireImages()
        let disk = try Self.image("record-disk")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-disk-session-\(getpid()).log")
        defer {
            for url in [disk, log, log.appendingPathExtension("disk")] { try? FileManager.default.removeItem(at: url) }
        }
        let session = try ConsoleSession(executable: LinuxBootTests.lockstep, arguments: ["run", "--disk", disk.path, "--record", log.path])
        try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.bootTimeout)
        session.send(line: "echo -n WRITTEN-IN-SESSION | dd of=/dev/vda bs=512 seek=0 conv=notrunc 2>/dev/null; sync; head -c 18 /dev/vda; echo")
        try session.expect("WRITTEN-IN-SESSION", timeout: LinuxBootTests.commandTimeout)
        try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.commandTimeout)
        session.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: LinuxBootTests.commandTimeout) == 0)
        #expect(session.transcript.contains("saved in \(log.path).disk"))
        // The image changed; the copy beside the log did not.
        #expect(try Data(contentsOf: disk).prefix(18) == Data("WRITTEN-IN-SESSION".utf8))
        #expect(try Data(contentsOf: log.appendingPathExtension("disk")).prefix(13) == Data("ORIGINAL-DISK".utf8))

        let replay = try RecordReplayCommandTests.run(["replay", log.path])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stderr.contains("replay matches"))
        // Without the copy, the changed image is refused (content hash), not silently used.
        try FileManager.default.removeItem(at: log.appendingPathExtension("disk"))
        let refused = try RecordReplayCommandTests.run(["replay", log.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("differs from the one the session was recorded with"), "\(refused.stderr)")
    }

    @Test func aSnapshotKeepsItsDiskAndStaysRestorable() throws {
        try LinuxBootTests.requireImages()
        let disk = try Self.image("snapshot-disk")
        let snapshot = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-disk-\(getpid()).snap")
        defer {
            for url in [disk, snapshot, snapshot.appendingPathExtension("disk")] { try? FileManager.default.removeItem(at: url) }
        }
        let taken = try RecordReplayCommandTests.run(["snapshot", "--at", "140000000", "--disk", disk.path, "--output", snapshot.path])
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stderr.contains("saved in \(snapshot.path).disk"))
        // The image changes afterwards; restoring onto it is refused with the reason.
        let handle = try FileHandle(forWritingTo: disk)
        try handle.write(contentsOf: Data("CHANGED".utf8))
        try handle.close()
        let changed = try RecordReplayCommandTests.run(["run", "--restore", snapshot.path, "--disk", disk.path])
        #expect(changed.status == 1)
        #expect(changed.stderr.contains("contents differ"), "\(changed.stderr)")
        // Without --disk: a copy of the snapshot's disk, twice (the first run's writes do not stick).
        for round in 1...2 {
            let session = try ConsoleSession(executable: LinuxBootTests.lockstep, arguments: ["run", "--restore", snapshot.path])
            session.send(line: "head -c 13 /dev/vda; echo; echo -n SCRIBBLED | dd of=/dev/vda conv=notrunc 2>/dev/null; sync; echo round-\(round)-done")
            try session.expect("\nround-\(round)-done\r\n", timeout: LinuxBootTests.commandTimeout)
            #expect(session.transcript.contains("ORIGINAL-DISK"), "round \(round): \(session.transcript.suffix(500))")
            session.send(line: "poweroff -f")
            #expect(session.waitForExit(timeout: LinuxBootTests.commandTimeout) == 0)
        }
    }
}
