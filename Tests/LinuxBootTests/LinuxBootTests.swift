import Foundation
import Testing

/// The default Linux guest (guests/linux/build.sh) booted as a user would: `lockstep run` with
/// the console on pipes, commands typed at the busybox shell, a virtio-blk disk image checked
/// from the host, and the same images booted on QEMU as a check that they are sound.
@Suite(.serialized) struct LinuxBootTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let prompt = "~ # "
    /// Generous: a boot on a loaded 2-core CI machine. Not a performance assertion.
    static let bootTimeout = 240.0
    static let commandTimeout = 60.0

    static var lockstep: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("lockstep").path), directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("lockstep").path
    }

    /// The cached images of the default guest, as `lockstep run` finds them.
    static var imageDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
        return cache + "/linux/current"
    }

    static func requireImages() throws {
        for name in ["Image", "initramfs.cpio.gz"] {
            let path = imageDirectory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else {
                throw ImagesMissing(path: path)
            }
        }
    }

    struct ImagesMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is missing: run guests/linux/build.sh first (scripts/test.sh does)" }
    }

    /// Runs a shell command in the guest and returns what it printed before the next prompt.
    static func run(_ session: ConsoleSession, _ command: String) throws -> String {
        session.send(line: command)
        let text = try session.expect(prompt, timeout: commandTimeout)
        // "\r\n" is one Character in Swift: normalise before splitting. Drop the echoed command
        // (everything up to the first newline) and the prompt at the end.
        var body = text.replacingOccurrences(of: "\r\n", with: "\n")
        if let newline = body.firstIndex(of: "\n") { body = String(body[body.index(after: newline)...]) } else { body = "" }
        if body.hasSuffix(prompt) { body.removeLast(prompt.count) }
        if body.hasSuffix("\n") { body.removeLast() }
        return body
    }

    @Test func bootsToShellRunsCommandsUsesDiskAndEntropyAndPowersOff() throws {
        try Self.requireImages()
        // A disk image with a known pattern in sector 3.
        let diskURL = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-disk-\(getpid()).img")
        defer { try? FileManager.default.removeItem(at: diskURL) }
        var disk = [UInt8](repeating: 0, count: 4 << 20)
        let pattern = Array("LOCKSTEP-HOST-PATTERN-0123456789".utf8)
        disk.replaceSubrange(3 * 512..<(3 * 512 + pattern.count), with: pattern)
        try Data(disk).write(to: diskURL)

        let session = try ConsoleSession(executable: Self.lockstep, arguments: ["run", "--disk", diskURL.path])
        try session.expect(Self.prompt, timeout: Self.bootTimeout)

        // Write a file and read it back.
        _ = try Self.run(session, "echo written-by-the-test > /tmp/probe")
        #expect(try Self.run(session, "cat /tmp/probe") == "written-by-the-test")

        // The hart as Linux sees it.
        let cpuinfo = try Self.run(session, "cat /proc/cpuinfo")
        #expect(cpuinfo.contains("rv64imafdc"))
        #expect(cpuinfo.contains("sv39"))

        // virtio-blk: read the host's pattern, write one of our own.
        let sector3 = try Self.run(session, "dd if=/dev/vda bs=512 skip=3 count=1 2>/dev/null | head -c 32")
        #expect(sector3 == "LOCKSTEP-HOST-PATTERN-0123456789")
        _ = try Self.run(session, "echo -n GUEST-WROTE-THIS | dd of=/dev/vda bs=512 seek=7 conv=notrunc 2>/dev/null; sync")

        // virtio-rng: 32 bytes, not all the same.
        let entropy = try Self.run(session, "dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n'")
        #expect(entropy.count == 64)
        #expect(Set(entropy).count > 4)

        session.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: Self.commandTimeout) == 0)

        let after = try [UInt8](Data(contentsOf: diskURL))
        #expect(Array(after[7 * 512..<(7 * 512 + 16)]) == Array("GUEST-WROTE-THIS".utf8))
        #expect(Array(after[3 * 512..<(3 * 512 + pattern.count)]) == pattern)
    }

    /// `--mac` reaches the guest: Linux's virtio-net driver reads the address from the device's
    /// configuration space (VIRTIO_NET_F_MAC) and gives it to eth0.
    @Test func theGuestHasTheMACAddressItWasGiven() throws {
        try Self.requireImages()
        let session = try ConsoleSession(executable: Self.lockstep, arguments: ["run", "--netdev", "none", "--mac", "02:00:00:aa:bb:cc"])
        try session.expect(Self.prompt, timeout: Self.bootTimeout)
        #expect(try Self.run(session, "cat /sys/class/net/eth0/address") == "02:00:00:aa:bb:cc")
        session.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: Self.commandTimeout) == 0)
    }

    @Test func rebootBootsAgainAndCtrlAXQuits() throws {
        try Self.requireImages()
        let session = try ConsoleSession(executable: Self.lockstep, arguments: ["run"])
        try session.expect("init ready", timeout: Self.bootTimeout)
        try session.expect(Self.prompt, timeout: Self.commandTimeout)
        session.send(line: "reboot -f")
        try session.expect("the guest rebooted", timeout: Self.commandTimeout)
        try session.expect("init ready", timeout: Self.bootTimeout)
        try session.expect(Self.prompt, timeout: Self.commandTimeout)
        // Ctrl-A X quits, as in QEMU (here with the guest still running).
        session.send(bytes: [0x01, UInt8(ascii: "x")])
        #expect(session.waitForExit(timeout: Self.commandTimeout) == 0)
    }

    @Test func missingKernelGivesAClearError() throws {
        let session = try ConsoleSession(executable: Self.lockstep, arguments: ["run", "--kernel", "/nonexistent/Image"])
        #expect(session.waitForExit(timeout: 30) == 1)
        #expect(session.transcript.contains("/nonexistent/Image"))
        let notKernel = try ConsoleSession(executable: Self.lockstep,
                                           arguments: ["run", "--kernel", Self.root.appendingPathComponent("Package.swift").path])
        #expect(notKernel.waitForExit(timeout: 30) == 1)
        #expect(notKernel.transcript.contains("not a RISC-V Linux kernel Image"))
    }

    @Test func theSameImagesBootOnQEMU() throws {
        try Self.requireImages()
        let session = try ConsoleSession(executable: "/usr/bin/qemu-system-riscv64", arguments: [
            "-M", "virt", "-m", "128M", "-smp", "1", "-nographic", "-bios", "default",
            "-kernel", Self.imageDirectory + "/Image", "-initrd", Self.imageDirectory + "/initramfs.cpio.gz",
            "-append", "console=ttyS0",
        ])
        try session.expect(Self.prompt, timeout: Self.bootTimeout)
        #expect(try Self.run(session, "cat /proc/cpuinfo").contains("rv64"))
        session.send(line: "poweroff -f")
        #expect(session.waitForExit(timeout: Self.commandTimeout) == 0)
    }
}
