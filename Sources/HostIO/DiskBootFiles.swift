import Foundation

/// The kernel and initrd installed in a disk image's root file system, for `lockstep run` and
/// `lockstep node --boot-from-disk`: what a boot loader would find, read from the host with
/// e2fsprogs' `debugfs` (``DebugFS``) before the machine starts.
///
/// The image must be an ext2/3/4 file system filling the whole image (no partition table), as
/// guests/debian/build.sh makes it. The kernel is the first of:
///
/// 1. the links `/vmlinuz`, `/vmlinux`, `/boot/vmlinuz`, `/boot/vmlinux`, `/boot/Image` (Debian's
///    kernel packages keep `/vmlinuz` pointing at the newest kernel), followed to their file;
/// 2. the newest (by version) `/boot/vmlinuz-VERSION`, `/boot/vmlinux-VERSION` or
///    `/boot/Image-VERSION`.
///
/// The initrd is the one of the kernel's version (`/boot/initrd.img-VERSION`, Debian's name;
/// `/boot/initramfs-VERSION.img`, `/boot/initrd-VERSION.img`), else the link `/initrd.img`
/// (`/boot/initrd.img`); none found: the kernel boots without one. The kernel file becomes a
/// RISC-V Image as ``KernelImageFile`` says (as it is, or decompressed).
///
/// The two nodes of a replicated VM do not each read these files: only the node that boots the VM
/// (the first primary, or the one that boots it from its disk after both stopped) reads its own
/// disk; a backup receives the running machine, kernel included, from its primary.
public struct DiskBootFiles: Sendable {
    /// The image the files came from.
    public let image: String
    /// The kernel's path in the file system (after following links).
    public let kernelPath: String
    /// The kernel as a RISC-V Image (decompressed if it was compressed).
    public let kernel: [UInt8]
    /// The initrd's path in the file system, if one was found.
    public let initrdPath: String?
    /// The initrd's bytes (as stored: the kernel decompresses it).
    public let initrd: [UInt8]?

    /// The links tried first for the kernel, in order.
    static let kernelLinks = ["/vmlinuz", "/vmlinux", "/boot/vmlinuz", "/boot/vmlinux", "/boot/Image"]
    /// Versioned kernel names in /boot: the prefix before the version.
    static let kernelPrefixes = ["vmlinuz-", "vmlinux-", "Image-"]
    /// The links tried for the initrd when none has the kernel's version.
    static let initrdLinks = ["/initrd.img", "/boot/initrd.img"]

    /// Reads the kernel and initrd out of `image`.
    public static func read(image: String) throws(BootFromDiskError) -> DiskBootFiles {
        try checkFileSystem(image)
        let debugfs = try DebugFS.open(image)
        var lookedAt: [String] = []
        var kernel: (path: String, size: UInt64)?
        for link in kernelLinks {
            lookedAt.append(link)
            if let found = try resolve(link, in: debugfs) {
                kernel = found
                break
            }
        }
        if kernel == nil {
            lookedAt.append(kernelPrefixes.map { "/boot/\($0)*" }.joined(separator: ", "))
            let candidates = try debugfs.list("/boot").filter { entry in
                entry.isRegularFile && kernelPrefixes.contains { entry.name.hasPrefix($0) && entry.name.count > $0.count }
            }
            if let newest = candidates.max(by: { VersionOrder.precedes(version(of: $0.name) ?? "", version(of: $1.name) ?? "") }),
               let found = try resolve("/boot/" + newest.name, in: debugfs) {
                kernel = found
            }
        }
        guard let kernel else { throw .noKernel(image: image, lookedAt: lookedAt) }
        var initrd: (path: String, size: UInt64)?
        var initrdCandidates: [String] = []
        if let version = version(of: String(kernel.path.split(separator: "/").last ?? "")) {
            initrdCandidates = ["/boot/initrd.img-\(version)", "/boot/initramfs-\(version).img", "/boot/initrd-\(version).img"]
        }
        for candidate in initrdCandidates + initrdLinks {
            if let found = try resolve(candidate, in: debugfs) {
                initrd = found
                break
            }
        }
        let kernelFile = try debugfs.read(kernel.path, size: kernel.size)
        let image = try KernelImageFile.image(from: kernelFile, path: kernel.path, in: image)
        let initrdBytes = try initrd.map { found throws(BootFromDiskError) in try debugfs.read(found.path, size: found.size) }
        return DiskBootFiles(image: debugfs.image, kernelPath: kernel.path, kernel: image, initrdPath: initrd?.path, initrd: initrdBytes)
    }

    /// The version in a kernel file's name (`vmlinux-6.12.1-riscv64` gives `6.12.1-riscv64`).
    static func version(of name: String) -> String? {
        for prefix in kernelPrefixes where name.hasPrefix(prefix) && name.count > prefix.count {
            return String(name.dropFirst(prefix.count))
        }
        return nil
    }

    /// `path` followed through symbolic links (at most 16) to a regular file: its path and size;
    /// nil when nothing is there or the links lead nowhere.
    static func resolve(_ path: String, in debugfs: DebugFS) throws(BootFromDiskError) -> (path: String, size: UInt64)? {
        var current = path
        for _ in 0..<16 {
            guard let entry = try debugfs.stat(current) else { return nil }
            switch entry.kind {
            case .regular:
                return (current, entry.size)
            case .symlink:
                let target = try debugfs.linkTarget(of: current, entry: entry)
                let base = target.hasPrefix("/") ? "" : String(current[..<(current.lastIndex(of: "/") ?? current.startIndex)])
                current = normalized(base + "/" + target)
            default:
                return nil
            }
        }
        return nil
    }

    /// An absolute path with `.`, `..` and repeated slashes taken out (`..` of `/` is `/`, as
    /// the guest's kernel resolves it).
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Refuses an image that is not an ext2/3/4 file system from its first byte: a partition
    /// table, or anything else.
    static func checkFileSystem(_ image: String) throws(BootFromDiskError) {
        guard let handle = FileHandle(forReadingAtPath: image) else {
            throw .unreadable(image: image, reason: "cannot be opened (\(String(cString: strerror(errno))))")
        }
        defer { try? handle.close() }
        let head: [UInt8]
        do {
            head = [UInt8](try handle.read(upToCount: 2048) ?? Data())
        } catch {
            throw .unreadable(image: image, reason: "\(error)")
        }
        // The ext superblock starts at byte 1024; its magic 0xEF53 is at offset 56 in it.
        if head.count >= 1082, head[1080] == 0x53, head[1081] == 0xEF { return }
        if head.count >= 520, Array(head[512..<520]) == Array("EFI PART".utf8) {
            throw .partitioned(image: image, table: "GPT")
        }
        if head.count >= 512, head[510] == 0x55, head[511] == 0xAA {
            throw .partitioned(image: image, table: "MBR")
        }
        throw .notExt4(image: image)
    }
}
