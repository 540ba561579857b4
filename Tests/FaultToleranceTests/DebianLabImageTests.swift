import Foundation
import HostIO
@testable import FaultInjection
import Testing

/// The Debian guest's disk as `lockstep-soak disk --guest debian` prepares it from
/// guests/debian/build.sh's image: the copy holds the lab's network file and Redis drop-in (read
/// back from the file system with debugfs), the file system is clean, the kernel and initrd the
/// nodes boot with `--boot-from-disk` are found in it, and a second preparation of the same copy
/// is refused rather than damaging it. Skipped when the image is not built.
@Suite(.enabled(if: DebianImage.isBuilt, "the Debian image is not built: run guests/debian/build.sh (as root; scripts/test.sh does)"))
struct DebianLabImageTests {
    /// `debugfs -R "cat PATH" IMAGE`'s output.
    func cat(_ path: String, in image: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(ShortCommandPath.debugfs))
        process.arguments = ["-R", "cat \(path)", image]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func theCopyHasTheLabsNetworkAndRedisAndStillBoots() throws {
        let directory = temporaryDirectory("debian-lab-image")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { removeTemporaryDirectory(directory) }
        let image = directory.appendingPathComponent("A.img").path
        try DebianLabImage.prepare(source: DebianImage.directory + "/disk.img", destination: image,
                                   address: "10.0.0.10/24", gateway: "10.0.0.1")

        let network = try cat("/etc/systemd/network/10-lockstep-lab.network", in: image)
        #expect(network.contains("Address=10.0.0.10/24") && network.contains("Gateway=10.0.0.1") && network.contains("DHCP=no"), "\(network)")
        let redis = try cat("/etc/systemd/system/redis-server.service.d/lockstep-lab.conf", in: image)
        for setting in ["--bind 0.0.0.0", "--protected-mode no", "--appendonly yes", "--appendfsync always"] {
            #expect(redis.contains(setting), "\(setting) missing: \(redis)")
        }
        // Debian's own unit is untouched: the drop-in overrides its ExecStart.
        #expect(try cat("/usr/lib/systemd/system/redis-server.service", in: image).contains("ExecStart=/usr/bin/redis-server /etc/redis/redis.conf"))
        let files = try DiskBootFiles.read(image: image)
        #expect(files.kernelPath.hasPrefix("/boot/vmlinux-"))
        #expect(files.initrd != nil)

        #expect(throws: FaultInjectionError.self, "a copy that has the files already is refused") {
            try DebianLabImage.prepare(source: image, destination: directory.appendingPathComponent("again.img").path,
                                       address: "10.0.0.10/24", gateway: "10.0.0.1")
        }
    }
}

/// Where e2fsprogs' debugfs is.
enum ShortCommandPath {
    static var debugfs: String? {
        ["/usr/sbin/debugfs", "/sbin/debugfs"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
