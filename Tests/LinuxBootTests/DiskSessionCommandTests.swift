import Foundation
import Testing

/// Recordings and snapshots of machines with a disk, as a user runs them: the guest writes its
/// disk during a recorded session, and the replay needs no hand-kept copy (`run --record` keeps
/// the disk as it was at the start in LOG.disk); a snapshot keeps the disk as it was at its
/// instruction (SNAPSHOT.disk) and `run --restore` continues on a copy of it, so the snapshot
/// stays restorable; a changed disk is refused.
@Suite(.serialized) struct DiskSessionCommandTests {
    static func image(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-\(name)-\(getpid()).img")
        var bytes = [UInt8](repeating: 0, count: 4 << 20)
        bytes.replaceSubrange(0..<13, with: Array("ORIGINAL-DISK".utf8))
        try Data(bytes).write(to: url)
        return url
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
