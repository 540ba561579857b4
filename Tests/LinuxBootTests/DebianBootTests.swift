import Foundation
import Testing

/// An unmodified Debian trixie riscv64 system (guests/debian/build.sh: Debian's kernel, its
/// initramfs-tools initrd, systemd, redis-server from Debian's package) booted on Lockstep from a
/// copy of its disk image, as a user would with `lockstep run`: systemd reaches `running` (not
/// `degraded`) and Redis answers.
///
/// Skipped, with the reason, when the image is not built (scripts/test.sh builds it).
@Suite(.serialized, .enabled(if: DebianGuest.isBuilt, "the Debian image is not built: run guests/debian/build.sh (as root; scripts/test.sh does)"))
struct DebianBootTests {
    /// The shell prompt root's automatic login on ttyS0 ends at.
    static let prompt = "root@lockstep:~# "
    /// Generous: a Debian boot is ~17 billion instructions, minutes on a loaded 2-core CI machine.
    /// Not a performance assertion.
    static let bootTimeout = 900.0
    static let commandTimeout = 300.0

    /// Runs `command` and returns what it printed, found between a marker the command line
    /// itself does not contain (`@@` + `name=`, typed as `@@"name="`) and the next prompt.
    static func output(of command: String, name: String, in session: ConsoleSession) throws -> String {
        session.send(line: "echo \"@@\"\"\(name)=$(\(command))\"")
        try session.expect("@@\(name)=", timeout: commandTimeout)
        let text = try session.expect(prompt, timeout: commandTimeout)
        // isNewline: "\r\n" is one Character in Swift.
        let line = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.trimmingCharacters(in: .whitespaces)
    }

    @Test func bootsToRunningWithRedis() throws {
        let image = try DebianGuest.copy()
        defer { try? FileManager.default.removeItem(atPath: image.disk) }
        let session = try ConsoleSession(executable: LinuxBootTests.lockstep, arguments: [
            "run", "--kernel", image.kernel, "--initrd", image.initrd, "--append", image.commandLine,
            "--disk", image.disk, "--memory", "1024",
        ])
        defer { if session.process.isRunning { kill(session.process.processIdentifier, SIGKILL) } }

        // The login prompt, then root's automatic login on the serial console.
        try session.expect("lockstep login:", timeout: Self.bootTimeout)
        try session.expect(Self.prompt, timeout: Self.commandTimeout)

        // `running`, not `degraded`: no unit failed. (--wait: until the boot has finished.)
        let state = try Self.output(of: "systemctl is-system-running --wait", name: "state", in: session)
        let failed = try Self.output(of: "systemctl --failed --plain --no-legend --no-pager", name: "failed", in: session)
        #expect(state == "running", "systemctl is-system-running: \(state.debugDescription); failed units: \(failed)")
        // Redis from Debian's redis-server package, started by systemd.
        let pong = try Self.output(of: "redis-cli ping", name: "redis", in: session)
        #expect(pong == "PONG", "redis-cli ping: \(pong.debugDescription)")
        // Debian's own kernel, not the default guest's.
        let kernel = try Self.output(of: "uname -r", name: "kernel", in: session)
        #expect(kernel.hasSuffix("-riscv64"), "uname -r: \(kernel.debugDescription)")

        session.send(line: "poweroff")
        #expect(session.waitForExit(timeout: Self.commandTimeout) == 0)
    }
}

/// The Debian image as guests/debian/build.sh publishes it: `$LOCKSTEP_CACHE/debian/current`.
enum DebianGuest {
    static var directory: String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
        return cache + "/debian/current"
    }

    static var isBuilt: Bool {
        ["Image", "initrd.img", "disk.img", "cmdline"].allSatisfy {
            FileManager.default.fileExists(atPath: directory + "/" + $0)
        }
    }

    struct Image {
        let kernel: String
        let initrd: String
        let disk: String
        let commandLine: String
    }

    /// The image with a private copy of its disk (booting writes to the disk; the cached one
    /// stays as built). The copy is sparse, as the image is.
    static func copy() throws -> Image {
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-debian-\(getpid()).img").path
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["--sparse=always", directory + "/disk.img", disk]
        try cp.run()
        cp.waitUntilExit()
        #expect(cp.terminationStatus == 0, "cp of the Debian disk image failed")
        let commandLine = try String(contentsOfFile: directory + "/cmdline", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return Image(kernel: directory + "/Image", initrd: directory + "/initrd.img", disk: disk, commandLine: commandLine)
    }
}
