import Foundation
import Testing

/// The `lockstep` executable as a user runs it: exit codes, messages, flags.
@Suite struct RunCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `lockstep` binary built next to this test bundle.
    static var binary: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("lockstep").path), directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("lockstep")
    }

    struct Outcome { var status: Int32; var stdout: String; var stderr: String }

    func lockstep(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    func guest(_ name: String) -> String { Self.root.appendingPathComponent("guests/out/\(name).elf").path }

    @Test func exitsWithTheProgramsExitCode() throws {
        let result = try lockstep(["run", "--elf", guest("exit-code")])
        #expect(result.status == 3)
        #expect(result.stdout == "exit-code: exiting with code 3\n")
        let hello = try lockstep(["run", "--elf", guest("hello")])
        #expect(hello.status == 0)
        #expect(hello.stdout == "Hello from Lockstep\n")
    }

    @Test func maxInstructionsStopsAndSaysSo() throws {
        let result = try lockstep(["run", "--elf", guest("loop-alu"), "--max-instructions", "5000"])
        #expect(result.status == 124)
        #expect(result.stderr.contains("stopped after 5000 instructions"))
    }

    @Test func traceShowsEveryRetiredInstruction() throws {
        let result = try lockstep(["run", "--elf", guest("loop-alu"), "--max-instructions", "20", "--trace"])
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("00000000800") }
        #expect(lines.count == 20)
        // loop-alu starts with `li s0, ITERS` = lui + addiw.
        #expect(lines.first?.hasPrefix("0000000080000000: ") == true)
        #expect(lines.first?.contains("lui s0,") == true)
        #expect(lines.contains { $0.contains("mul a5,a3,a4") })
    }

    @Test func badInputGivesClearErrors() throws {
        let missing = try lockstep(["run", "--elf", "/nonexistent.elf"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("/nonexistent.elf"))
        let notELF = try lockstep(["run", "--elf", Self.root.appendingPathComponent("Package.swift").path])
        #expect(notELF.status == 1)
        #expect(notELF.stderr.contains("not an ELF"))
        let host = try lockstep(["run", "--elf", "/bin/true"])
        #expect(host.status == 1)
        #expect(host.stderr.lowercased().contains("x86"))
        // No arguments boots the default Linux guest; with an empty cache it says how to build it.
        let noGuest = try lockstep(["run"], environment: ["LOCKSTEP_CACHE": "/nonexistent-lockstep-cache"])
        #expect(noGuest.status == 1)
        #expect(noGuest.stderr.contains("guests/linux/build.sh"))
        let mixed = try lockstep(["run", "--elf", guest("hello"), "--kernel", "/x"])
        #expect(mixed.status != 0)
        #expect(mixed.stderr.contains("--elf"))
        let badMemory = try lockstep(["run", "--elf", guest("hello"), "--memory", "0"])
        #expect(badMemory.status != 0)
        #expect(badMemory.stderr.contains("--memory"))
    }

    /// `--mac` takes six hex pairs of a unicast address on every command that builds a machine,
    /// and says what a valid one looks like otherwise.
    @Test func aBadMACIsRefusedSayingWhatAValidOneLooksLike() throws {
        let node = ["node", "--vm", "v", "--key-file", "/tmp/key", "--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2",
                    "--peer", "127.0.0.1:3", "--peer", "127.0.0.1:4", "--arbiter-file", "/tmp/x"]
        for command in [["run", "--elf", guest("hello")], node, ["snapshot", "--elf", guest("hello"), "--at", "10", "--output", "/tmp/x"],
                        ["vm", "create", "db", "--etcd", "http://127.0.0.1:1"]] {
            let malformed = try lockstep(command + ["--mac", "52-54-00-12-34-56"])
            #expect(malformed.status != 0 && malformed.stderr.contains("--mac: '52-54-00-12-34-56' is not a MAC address: write six pairs of hex digits separated by ':', e.g. 02:00:00:aa:bb:cc"),
                    "\(command[0]): \(malformed.stderr)")
            let multicast = try lockstep(command + ["--mac", "01:00:5e:00:00:01"])
            #expect(multicast.status != 0 && multicast.stderr.contains("multicast"), "\(command[0]): \(multicast.stderr)")
            let zero = try lockstep(command + ["--mac", "00:00:00:00:00:00"])
            #expect(zero.status != 0 && zero.stderr.contains("no network card's address"), "\(command[0]): \(zero.stderr)")
        }
        #expect(try lockstep(["run", "--elf", guest("hello"), "--mac", "02:00:00:AA:BB:CC"]).status == 0)
    }

    /// A snapshot keeps the machine's MAC address; `run --restore` continues with it, and a
    /// --mac that is not the snapshot's is refused naming the one to give.
    @Test func aRestoredSnapshotKeepsItsMAC() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-mac-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let snapshot = directory.appendingPathComponent("hello.snap").path
        let taken = try lockstep(["snapshot", "--elf", guest("hello"), "--at", "100", "--output", snapshot, "--mac", "02:00:00:aa:bb:cc"])
        #expect(taken.status == 0, "\(taken.stderr)")
        let other = try lockstep(["run", "--restore", snapshot, "--mac", "52:54:00:12:34:56"])
        #expect(other.status == 1)
        #expect(other.stderr.contains("the snapshot's MAC address is 02:00:00:aa:bb:cc, this machine's is 52:54:00:12:34:56") && other.stderr.contains("--mac 02:00:00:aa:bb:cc"),
                "\(other.stderr)")
        let same = try lockstep(["run", "--restore", snapshot, "--mac", "02:00:00:aa:bb:cc"])
        #expect(same.status == 0 && !same.stdout.isEmpty && "Hello from Lockstep\n".hasSuffix(same.stdout), "\(same.stdout) \(same.stderr)")
        let kept = try lockstep(["run", "--restore", snapshot])
        #expect(kept.status == 0, "\(kept.stderr)")
    }

    /// A recording keeps the machine's MAC address: the replay builds the machine with it (the
    /// state hashes cover the network card's address, so a replay on another would not match).
    @Test func aRecordingReplaysWithItsMAC() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-mac-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("hello.log").path
        let recorded = try lockstep(["run", "--elf", guest("hello"), "--record", log, "--mac", "02:00:00:aa:bb:cc"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: log)))
        #expect(bytes[8] == 6, "format 6")
        #expect(bytes.indices.contains { Array(bytes.dropFirst($0).prefix(6)) == [0x02, 0x00, 0x00, 0xAA, 0xBB, 0xCC] })
        let replay = try lockstep(["replay", "--quiet", log])
        #expect(replay.status == 0 && replay.stderr.contains("replay matches"), "\(replay.stderr)")
    }

    /// `--disk` is repeatable up to four times on every command that takes it; a fifth, or one
    /// image given twice (under another name too), is refused before anything starts.
    @Test func moreThanFourDisksOrOneImageTwiceAreRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-disks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let images = try (1...5).map { index -> String in
            let path = directory.appendingPathComponent("d\(index).img").path
            try Data(count: 1 << 20).write(to: URL(fileURLWithPath: path))
            return path
        }
        let alias = directory.appendingPathComponent("alias.img").path
        try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: images[0])
        let five = images.flatMap { ["--disk", $0] }
        let node = ["node", "--vm", "v", "--key-file", "/nonexistent/key", "--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2",
                    "--peer", "127.0.0.1:3", "--peer", "127.0.0.1:4", "--arbiter-file", "/tmp/x"]
        for command in [["run"], ["snapshot", "--at", "1", "--output", "/tmp/x.snap"], node] {
            let many = try lockstep(command + five)
            #expect(many.status != 0 && many.stderr.contains("--disk is given 5 times") && many.stderr.contains("at most 4"),
                    "\(command[0]): \(many.stderr)")
            let twice = try lockstep(command + ["--disk", images[0], "--disk", images[1], "--disk", images[0]])
            #expect(twice.status != 0 && twice.stderr.contains("\(images[0]) is given twice"), "\(command[0]): \(twice.stderr)")
            let aliased = try lockstep(command + ["--disk", images[0], "--disk", alias])
            #expect(aliased.status != 0 && aliased.stderr.contains("are the same file"), "\(command[0]): \(aliased.stderr)")
        }
        let replay = try lockstep(["replay", "/nonexistent.log"] + five)
        #expect(replay.status != 0 && replay.stderr.contains("at most 4"), "\(replay.stderr)")
    }

    @Test func consolePortTakesTheConsoleOffTheTerminalAndSaysWhere() throws {
        // A bare-metal program's console output goes to TCP clients (none here), not to stdout.
        let hello = try lockstep(["run", "--elf", guest("hello"), "--console-port", "0"])
        #expect(hello.status == 0)
        #expect(hello.stdout.isEmpty)
        #expect(hello.stderr.hasPrefix("lockstep: console on 127.0.0.1:"))

        // A port that is taken: a clear error before the guest starts.
        let taken = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(taken) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(taken, $0, length) == 0 && listen(taken, 1) == 0 && getsockname(taken, $0, &length) == 0 }
        }
        #expect(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let inUse = try lockstep(["run", "--elf", guest("hello"), "--console-port", "\(port)"])
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("cannot listen on 127.0.0.1:\(port): the port is in use"))

        let badHost = try lockstep(["run", "--elf", guest("hello"), "--console-port", "0", "--console-host", "example.com"])
        #expect(badHost.status == 1)
        #expect(badHost.stderr.contains("cannot listen on host example.com"))
        let traced = try lockstep(["run", "--elf", guest("hello"), "--console-port", "0", "--trace"])
        #expect(traced.status != 0)
        #expect(traced.stderr.contains("--console-port and --trace cannot be combined"))
        let hostOnly = try lockstep(["run", "--elf", guest("hello"), "--console-host", "0.0.0.0"])
        #expect(hostOnly.status != 0)
        #expect(hostOnly.stderr.contains("--console-host needs --console-port"))
    }

    @Test func helpExplainsEveryFlag() throws {
        let result = try lockstep(["run", "--help"])
        for flag in ["--elf", "--max-instructions", "--trace", "--memory", "--stats", "--console-port", "--console-host"] {
            #expect(result.stdout.contains(flag), "help does not mention \(flag)")
        }
    }
}
