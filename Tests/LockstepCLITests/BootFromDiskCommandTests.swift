import Foundation
import Testing

/// `--boot-from-disk` as a user meets it in `lockstep run` and `lockstep node`: wrong flags and
/// disks that hold no bootable file system are refused saying what to do; the default guest's
/// kernel (gzip-compressed, as `vmlinuz`) and initramfs installed in an ext4 image boot, and a
/// recording of that session replays from the files it saved.
@Suite struct BootFromDiskCommandTests {
    let cli = RunCommandTests()

    /// A scratch directory, removed by the caller.
    func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-boot-from-disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Runs a host program to its end; its status.
    @discardableResult
    func host(_ executable: String, _ arguments: [String], output: URL? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let output {
            FileManager.default.createFile(atPath: output.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output)
        }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func flagsWithoutADiskOrWithAKernelTooAreRefused() throws {
        let noDisk = try cli.lockstep(["run", "--boot-from-disk"])
        #expect(noDisk.status != 0 && noDisk.stderr.contains("give --disk IMAGE"), "\(noDisk.stderr)")
        let both = try cli.lockstep(["run", "--boot-from-disk", "--disk", "/tmp/x.img", "--kernel", "/tmp/Image"])
        #expect(both.status != 0 && both.stderr.contains("not both"), "\(both.stderr)")
        let elf = try cli.lockstep(["run", "--boot-from-disk", "--elf", "/tmp/x.elf"])
        #expect(elf.status != 0 && elf.stderr.contains("--elf runs a bare-metal program"), "\(elf.stderr)")
        let node = try cli.lockstep(["node", "--vm", "v", "--key-file", "/tmp/key", "--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2",
                                     "--peer", "127.0.0.1:3", "--peer", "127.0.0.1:4", "--arbiter-file", "/tmp/x", "--boot-from-disk"])
        #expect(node.status != 0 && node.stderr.contains("give --disk IMAGE"), "\(node.stderr)")
    }

    @Test func aDiskWithoutAFileSystemIsRefusedByRunAndNode() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("blank.img").path
        FileManager.default.createFile(atPath: image, contents: Data(count: 1 << 20))
        let run = try cli.lockstep(["run", "--boot-from-disk", "--disk", image, "--netdev", "none"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("holds no ext2/ext3/ext4 file system") && run.stderr.contains("--kernel"), "\(run.stderr)")
        // The node that boots the VM reads its disk, and says the same.
        let key = directory.appendingPathComponent("key").path
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: key))
        let node = try cli.lockstep(["node", "--vm", "v", "--key-file", key, "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0",
                                     "--peer", "127.0.0.1:1", "--peer", "127.0.0.1:2",
                                     "--arbiter-file", directory.appendingPathComponent("arbiter").path,
                                     "--disk", image, "--boot-from-disk"])
        #expect(node.status == 1, "\(node.stderr)")
        #expect(node.stderr.contains("holds no ext2/ext3/ext4 file system"), "\(node.stderr)")
    }

    @Test(.enabled(if: DefaultGuestFiles.present && DefaultGuestFiles.toolsPresent,
                   "needs the default guest (guests/linux/build.sh) and mkfs.ext4, debugfs, gzip (apt-get install e2fsprogs gzip)"))
    func theDefaultGuestBootsFromAnExt4ImageAndItsRecordingReplays() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tree = directory.appendingPathComponent("tree/boot")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try #require(try host("/bin/gzip", ["-c", DefaultGuestFiles.kernel], output: tree.appendingPathComponent("vmlinuz-6.1.0")) == 0)
        try FileManager.default.copyItem(atPath: DefaultGuestFiles.initrd, toPath: tree.appendingPathComponent("initrd.img-6.1.0").path)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("tree/vmlinuz").path,
                                                   withDestinationPath: "boot/vmlinuz-6.1.0")
        let image = directory.appendingPathComponent("disk.img").path
        try #require(try host(DefaultGuestFiles.mkfs, ["-q", "-F", "-d", directory.appendingPathComponent("tree").path, image, "32M"]) == 0)

        let log = directory.appendingPathComponent("session.log").path
        // The kernel's banner comes after about 30 million instructions.
        let run = try cli.lockstep(["run", "--boot-from-disk", "--disk", image, "--record", log, "--netdev", "none",
                                    "--max-instructions", "40000000"])
        #expect(run.status == 124, "\(run.stderr)")
        #expect(run.stdout.contains("Linux version 6.1"), "no kernel banner: \(run.stdout.prefix(2000)) \(run.stderr)")
        // What booted is the Image, decompressed; the recording names the saved files.
        #expect(FileManager.default.contents(atPath: log + ".kernel") == FileManager.default.contents(atPath: DefaultGuestFiles.kernel))
        #expect(FileManager.default.contents(atPath: log + ".initrd") == FileManager.default.contents(atPath: DefaultGuestFiles.initrd))
        let replay = try cli.lockstep(["replay", "--quiet", log])
        #expect(replay.status == 0 && replay.stderr.contains("replay matches"), "\(replay.stderr)")
    }
}

/// The default guest's files (guests/linux/build.sh's cache) and the tools to put them in an image.
enum DefaultGuestFiles {
    static var directory: String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
        return cache + "/linux/current"
    }
    static var kernel: String { directory + "/Image" }
    static var initrd: String { directory + "/initramfs.cpio.gz" }
    static var present: Bool { [kernel, initrd].allSatisfy { FileManager.default.fileExists(atPath: $0) } }
    static var mkfs: String { ["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "mkfs.ext4" }
    static var toolsPresent: Bool {
        FileManager.default.isExecutableFile(atPath: mkfs) && FileManager.default.isExecutableFile(atPath: "/bin/gzip")
            && ["/usr/sbin/debugfs", "/sbin/debugfs"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
