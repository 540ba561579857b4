import Foundation
@testable import HostIO
import LockstepSupport
import Testing

/// Whether the host tools the tests make images with are installed.
enum BootFileTools {
    static var present: Bool { ["mkfs.ext4", "debugfs", "gzip"].allSatisfy { HostCommand.find($0) != nil } }
}

/// `--boot-from-disk`'s reader: ext4 images made here with `mkfs.ext4 -d` from a tree laid out
/// as distributions lay out /boot (Debian's links, versioned names, compressed kernels), and the
/// images it must refuse, each with the error that says what to do. Needs e2fsprogs (mkfs.ext4,
/// debugfs) and gzip; skipped otherwise.
@Suite(.enabled(if: BootFileTools.present, "needs e2fsprogs (mkfs.ext4, debugfs) and gzip: apt-get install e2fsprogs gzip"))
struct DiskBootFilesTests {

    /// A fake RISC-V Image with an EFI stub in front: "MZ", the magic at 56, then `seed`-dependent
    /// bytes (so that two kernels differ and gzip has something to do).
    static func fakeImage(seed: UInt8, size: Int = 200_000) -> [UInt8] {
        var bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
        bytes[0] = 0x4D
        bytes[1] = 0x5A
        bytes.replaceSubrange(56..<60, with: KernelImageFile.imageMagic)
        return bytes
    }

    /// A directory to build a tree in, and the image made from it.
    final class Scratch {
        let root: URL
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-bootfiles-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("tree/boot"), withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: root) }

        var image: String { root.appendingPathComponent("disk.img").path }

        func file(_ path: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: root.appendingPathComponent("tree" + path))
        }

        func link(_ path: String, to target: String) throws {
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("tree" + path).path, withDestinationPath: target)
        }

        /// The tree as an ext4 image (32 MiB, sparse).
        func makeImage() throws -> String {
            let output = try HostCommand.find("mkfs.ext4")!.run(["-q", "-F", "-d", root.appendingPathComponent("tree").path, image, "32M"], timeout: 120)
            try #require(output.succeeded, "mkfs.ext4: \(output.standardError)")
            return image
        }

        /// `bytes` compressed by the host's gzip.
        func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
            let path = root.appendingPathComponent("gzip-input").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let output = try HostCommand.find("gzip")!.run(["-c", path], timeout: 120)
            try #require(output.succeeded)
            return output.standardOutput
        }
    }

    @Test func debiansLinkLeadsToTheKernelAndTheInitrdOfItsVersion() throws {
        let scratch = try Scratch()
        let new = Self.fakeImage(seed: 1), old = Self.fakeImage(seed: 2)
        try scratch.file("/boot/vmlinux-6.12.1-riscv64", new)
        try scratch.file("/boot/initrd.img-6.12.1-riscv64", Array("initrd of 6.12.1".utf8))
        try scratch.file("/boot/vmlinux-6.9.0-riscv64", old)
        try scratch.file("/boot/initrd.img-6.9.0-riscv64", Array("initrd of 6.9.0".utf8))
        // /vmlinuz names the kernel to boot; the stale /initrd.img link is not the kernel's version.
        try scratch.link("/vmlinuz", to: "boot/vmlinux-6.12.1-riscv64")
        try scratch.link("/initrd.img", to: "boot/initrd.img-6.9.0-riscv64")
        let files = try DiskBootFiles.read(image: try scratch.makeImage())
        #expect(files.kernelPath == "/boot/vmlinux-6.12.1-riscv64")
        #expect(files.kernel == new)
        #expect(files.initrdPath == "/boot/initrd.img-6.12.1-riscv64")
        #expect(files.initrd == Array("initrd of 6.12.1".utf8))
    }

    @Test func withoutLinksTheNewestVersionedKernelIsTakenAndDecompressed() throws {
        let scratch = try Scratch()
        let newest = Self.fakeImage(seed: 3)
        try scratch.file("/boot/vmlinuz-6.9.0", try scratch.gzip(Self.fakeImage(seed: 4)))
        try scratch.file("/boot/vmlinuz-6.12.0", try scratch.gzip(newest))
        try scratch.file("/boot/vmlinuz-6.2.0", try scratch.gzip(Self.fakeImage(seed: 5)))
        try scratch.file("/boot/initrd.img-6.12.0", [1, 2, 3])
        let files = try DiskBootFiles.read(image: try scratch.makeImage())
        #expect(files.kernelPath == "/boot/vmlinuz-6.12.0")
        #expect(files.kernel == newest, "the gzip-compressed kernel is decompressed to the Image")
        #expect(files.initrd == [1, 2, 3])
    }

    @Test func linksAreFollowedAbsoluteLongAndChained() throws {
        let scratch = try Scratch()
        let kernel = Self.fakeImage(seed: 6)
        // A target longer than 60 bytes is stored as the link's data, not in its inode.
        let long = "vmlinuz-6.12.0-a-version-string-long-enough-to-need-a-data-block-riscv64"
        try scratch.file("/boot/" + long, kernel)
        try scratch.link("/boot/vmlinuz", to: long)
        try scratch.link("/vmlinuz", to: "/boot/./../boot/vmlinuz")
        let files = try DiskBootFiles.read(image: try scratch.makeImage())
        #expect(files.kernelPath == "/boot/" + long)
        #expect(files.kernel == kernel)
        #expect(files.initrdPath == nil, "no initrd in the image: the kernel boots without one")
        #expect(files.initrd == nil)
    }

    @Test func aFileSystemLeftUncleanIsReadAllTheSame() throws {
        // A guest killed while it had the file system mounted leaves block bitmaps whose
        // checksums do not match (its journal puts them right at the next mount): the disk a node
        // boots from after both nodes stopped. Here one group's checksum is made wrong by hand.
        let scratch = try Scratch()
        let kernel = Self.fakeImage(seed: 9)
        try scratch.file("/boot/vmlinuz-2.0", kernel)
        let image = try scratch.makeImage()
        let damage = try HostCommand.find("debugfs")!.run(["-w", "-R", "set_bg 0 block_bitmap_csum 0x1234", image], timeout: 60)
        try #require(damage.succeeded)
        let strict = try HostCommand.find("debugfs")!.run(["-R", "stat /boot/vmlinuz-2.0", image], timeout: 60)
        try #require(strict.standardError.contains("checksum does not match"), "the damage did not take: \(strict.standardError)")
        let files = try DiskBootFiles.read(image: image)
        #expect(files.kernel == kernel)
    }

    @Test func aDanglingLinkIsPassedOver() throws {
        let scratch = try Scratch()
        let kernel = Self.fakeImage(seed: 7)
        try scratch.link("/vmlinuz", to: "boot/vmlinuz-gone")
        try scratch.file("/boot/vmlinuz-1.0", kernel)
        let files = try DiskBootFiles.read(image: try scratch.makeImage())
        #expect(files.kernelPath == "/boot/vmlinuz-1.0")
    }

    @Test func anEFIZbootKernelIsDecompressed() throws {
        let scratch = try Scratch()
        let kernel = Self.fakeImage(seed: 8)
        let payload = try scratch.gzip(kernel)
        var zboot = [UInt8](repeating: 0, count: 64)
        zboot[0] = 0x4D
        zboot[1] = 0x5A
        zboot.replaceSubrange(4..<8, with: Array("zimg".utf8))
        for i in 0..<4 {
            zboot[8 + i] = UInt8(truncatingIfNeeded: 64 >> (8 * i))
            zboot[12 + i] = UInt8(truncatingIfNeeded: payload.count >> (8 * i))
        }
        zboot.replaceSubrange(24..<28, with: Array("gzip".utf8))
        try scratch.file("/boot/vmlinuz-6.12.0", zboot + payload + [0xEE, 0xEE])
        let files = try DiskBootFiles.read(image: try scratch.makeImage())
        #expect(files.kernel == kernel)
    }

    @Test func anImageWithNoKernelSaysWhereItLooked() throws {
        let scratch = try Scratch()
        try scratch.file("/boot/config-6.12.0", [0])
        let image = try scratch.makeImage()
        #expect {
            try DiskBootFiles.read(image: image)
        } throws: { error in
            guard case BootFromDiskError.noKernel(_, let lookedAt) = error else { return false }
            return lookedAt.contains("/vmlinuz") && "\(error)".contains("--kernel")
        }
    }

    @Test func aKernelThatIsNoImageIsRefused() throws {
        let scratch = try Scratch()
        try scratch.file("/boot/vmlinuz-1.0", Array(repeating: 0x41, count: 4096))
        let image = try scratch.makeImage()
        #expect {
            try DiskBootFiles.read(image: image)
        } throws: { error in
            guard case BootFromDiskError.unsupportedKernel(_, let path, _) = error else { return false }
            return path == "/boot/vmlinuz-1.0"
        }
    }

    @Test(arguments: ["blank", "MBR", "GPT"])
    func anImageThatIsNotAWholeDiskExt4IsRefused(kind: String) throws {
        let scratch = try Scratch()
        var head = [UInt8](repeating: 0, count: 1 << 20)
        if kind == "MBR" || kind == "GPT" { head[510] = 0x55; head[511] = 0xAA }
        if kind == "GPT" { head.replaceSubrange(512..<520, with: Array("EFI PART".utf8)) }
        try Data(head).write(to: URL(fileURLWithPath: scratch.image))
        #expect {
            try DiskBootFiles.read(image: scratch.image)
        } throws: { error in
            switch error as? BootFromDiskError {
            case .notExt4: return kind == "blank"
            case .partitioned(_, let table): return table == kind && "\(error)".contains("partition table")
            default: return false
            }
        }
    }

    @Test func aMissingImageIsAnError() {
        #expect(throws: BootFromDiskError.self) { try DiskBootFiles.read(image: "/nonexistent/lockstep-disk.img") }
    }

    @Test func versionsCompareAsNumbers() {
        #expect(VersionOrder.precedes("6.9.0", "6.12.1"))
        #expect(VersionOrder.precedes("6.12.1-riscv64", "6.12.10-riscv64"))
        #expect(!VersionOrder.precedes("6.12.10", "6.12.9"))
        #expect(!VersionOrder.precedes("6.12.1", "6.12.1"))
        #expect(DiskBootFiles.normalized("/boot/./../boot//vmlinuz") == "/boot/vmlinuz")
        #expect(DiskBootFiles.normalized("/../x") == "/x")
    }
}
