import Foundation
import Testing

/// `lockstep run --record` and `lockstep replay` as a user runs them: an interactive shell
/// session on the default guest recorded through pipes, replayed without a terminal with the same
/// console output byte for byte, and damaged logs refused with the offset named.
@Suite(.serialized) struct RecordReplayCommandTests {
    static func run(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LinuxBootTests.lockstep)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func aRecordedShellSessionReplaysByteForByte() throws {
        try LinuxBootTests.requireImages()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-session-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }

        // Record: type commands with real pauses between them (the timing is part of the input).
        let session = try ConsoleSession(executable: LinuxBootTests.lockstep, arguments: ["run", "--record", log.path])
        try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.bootTimeout)
        for command in ["echo one; sleep 1; echo two", "cat /proc/interrupts | head -3", "dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1"] {
            session.send(line: command)
            try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.commandTimeout)
            usleep(150_000)
        }
        session.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: LinuxBootTests.commandTimeout) == 0)
        let recorded = session.transcript

        // Replay: same console output, byte for byte, and a success report.
        let replay = try Self.run(["replay", log.path])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stderr.contains("replay matches"))
        #expect(recorded.hasPrefix(replay.stdout))
        #expect(replay.stdout.contains("two"))
        #expect(replay.stdout.contains("reboot: Power down"))

        // A damaged log: one byte flipped in the middle of the records.
        var bytes = try [UInt8](Data(contentsOf: log))
        let damagedURL = log.appendingPathExtension("damaged")
        defer { try? FileManager.default.removeItem(at: damagedURL) }
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: damagedURL)
        let damaged = try Self.run(["replay", damagedURL.path])
        #expect(damaged.status == 1)
        #expect(damaged.stderr.contains("at byte"))

        // A truncated log.
        try Data(bytes[0..<(bytes.count - 7)]).write(to: damagedURL)
        let truncated = try Self.run(["replay", damagedURL.path])
        #expect(truncated.status == 1)
        #expect(truncated.stderr.contains("at byte"))

        // Not a log at all.
        let foreign = try Self.run(["replay", LinuxBootTests.lockstep])
        #expect(foreign.status == 1)
        #expect(foreign.stderr.contains("not a Lockstep event log"))
    }

    /// `reboot -f` at the shell of a recorded session: the machine reboots in the same process
    /// (the reboot is an input in the log), the session goes on, and the replay reproduces both
    /// boots byte for byte.
    @Test func aRecordedRebootReplays() throws {
        try LinuxBootTests.requireImages()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-reboot-session-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let session = try ConsoleSession(executable: LinuxBootTests.lockstep, arguments: ["run", "--record", log.path])
        try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.bootTimeout)
        session.send(line: "echo first-boot-$((1+1)) > /tmp/x; cat /tmp/x")
        try session.expect("first-boot-2", timeout: LinuxBootTests.commandTimeout)
        try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.commandTimeout)
        session.send(line: "reboot -f")
        try session.expect("the guest rebooted", timeout: LinuxBootTests.commandTimeout)
        try session.expect("init ready", timeout: LinuxBootTests.bootTimeout)
        try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.commandTimeout)
        session.send(line: "ls /tmp/x 2>&1; echo second-boot-$((2+2))")
        try session.expect("second-boot-4", timeout: LinuxBootTests.commandTimeout)
        try session.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.commandTimeout)
        session.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: LinuxBootTests.commandTimeout) == 0)

        let replay = try Self.run(["replay", log.path])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stderr.contains("replay matches"))
        #expect(replay.stdout.components(separatedBy: "init ready").count == 3, "two boots: \(replay.stdout)")
        #expect(replay.stdout.contains("first-boot-2"))
        #expect(replay.stdout.contains("No such file"))
        #expect(replay.stdout.contains("second-boot-4"))
        #expect(session.transcript.contains(replay.stdout.suffix(200)))
    }

    @Test func aSessionOnATCPConsoleRecordsAndReplays() throws {
        try LinuxBootTests.requireImages()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-tcp-session-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let session = try ConsoleSession(executable: LinuxBootTests.lockstep,
                                         arguments: ["run", "--console-port", "0", "--record", log.path])
        try session.expect("lockstep: console on 127.0.0.1:", timeout: LinuxBootTests.commandTimeout)
        let port = try #require(UInt16(try session.expect("\n", timeout: LinuxBootTests.commandTimeout).trimmingCharacters(in: .whitespacesAndNewlines)))
        let console = try TCPConsoleClient(port: port)
        try console.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.bootTimeout)
        console.send(line: "echo over-tcp-$((6*7)); sleep 1")
        try console.expect("over-tcp-42", timeout: LinuxBootTests.commandTimeout)
        try console.expect(LinuxBootTests.prompt, timeout: LinuxBootTests.commandTimeout)
        console.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: LinuxBootTests.commandTimeout) == 0)
        #expect(!session.transcript.contains("over-tcp-42"))   // nothing on standard output

        let replay = try Self.run(["replay", log.path])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stderr.contains("replay matches"))
        #expect(replay.stdout.contains("over-tcp-42"))
    }

    @Test func aSnapshotContinuesInANewProcess() throws {
        try LinuxBootTests.requireImages()
        let snapshot = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-\(getpid()).snap")
        defer { try? FileManager.default.removeItem(at: snapshot) }
        let taken = try Self.run(["snapshot", "--at", "140000000", "--output", snapshot.path])
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stderr.contains("snapshot at instruction 140000000"))

        let session = try ConsoleSession(executable: LinuxBootTests.lockstep, arguments: ["run", "--restore", snapshot.path])
        session.send(line: "echo restored-and-running")
        try session.expect("\nrestored-and-running\r\n", timeout: LinuxBootTests.commandTimeout)   // the output line, not the echo
        session.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: LinuxBootTests.commandTimeout) == 0)

        let foreign = try Self.run(["run", "--restore", LinuxBootTests.lockstep])
        #expect(foreign.status == 1)
        #expect(foreign.stderr.contains("not a Lockstep snapshot"))
    }
}
