import Foundation
import Testing

/// `lockstep run --boot-from-disk` on the Debian image (guests/debian/build.sh): the kernel and
/// initrd come out of the image's own root file system (Debian's `/vmlinuz` link to
/// `/boot/vmlinux-*`, and the initrd of that version), not from the files build.sh copied beside
/// it, and Debian's kernel starts: its banner, with the version build.sh installed, is on the
/// console. Kept short (400 million instructions, `earlycon` so that the banner is printed at
/// once) because the test build is a debug build.
///
/// Skipped, with the reason, when the image is not built (scripts/test.sh builds it).
@Suite(.enabled(if: DebianGuest.isBuilt, "the Debian image is not built: run guests/debian/build.sh (as root; scripts/test.sh does)"))
struct DebianBootFromDiskTests {
    @Test func debiansKernelStartsFromItsOwnDisk() throws {
        // Booting may write to the disk: a private sparse copy, as DebianBootTests makes.
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-debian-boot-from-disk-\(UUID().uuidString).img").path
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["--sparse=always", DebianGuest.directory + "/disk.img", disk]
        try cp.run()
        cp.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: disk) }
        try #require(cp.terminationStatus == 0, "cp of the Debian disk image failed")
        let commandLine = try String(contentsOfFile: DebianGuest.directory + "/cmdline", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // The kernel version build.sh installed ("kernel 6.12.117+deb13-riscv64" in inputs.txt).
        let inputs = (try? String(contentsOfFile: DebianGuest.directory + "/inputs.txt", encoding: .utf8)) ?? ""
        let version = inputs.split(separator: "\n").first { $0.hasPrefix("kernel ") }.map { String($0.dropFirst("kernel ".count)) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: LinuxBootTests.lockstep)
        process.arguments = ["run", "--boot-from-disk", "--disk", disk, "--append", commandLine + " earlycon", "--memory", "1024",
                             "--netdev", "none", "--max-instructions", "400000000"]
        process.standardInput = FileHandle.nullDevice
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let errorText = ErrorCollector(errors.fileHandleForReading)
        let console = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let stderr = errorText.text()

        #expect(process.terminationStatus == 124, "lockstep run: \(stderr)")
        let banner = console.split(whereSeparator: \.isNewline).first { $0.contains("Linux version") }.map(String.init)
        #expect(banner != nil, "no kernel banner on the console: \(console.prefix(3000))\n\(stderr)")
        if let version {
            #expect(banner?.contains("Linux version \(version) ") == true, "not the kernel build.sh installed (\(version)): \(banner ?? "")")
        }
    }
}

/// Standard error read on another thread while standard output is read to its end.
private final class ErrorCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
