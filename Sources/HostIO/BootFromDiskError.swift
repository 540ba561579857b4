/// Why the kernel and initrd cannot be taken from a disk image (`--boot-from-disk`), each with
/// what to do instead.
public enum BootFromDiskError: Error, Equatable, CustomStringConvertible {
    /// A host tool is missing (`debugfs` from e2fsprogs, or a decompressor).
    case toolMissing(tool: String, package: String)
    /// The image cannot be read.
    case unreadable(image: String, reason: String)
    /// The image starts with a partition table (MBR or GPT), not a file system.
    case partitioned(image: String, table: String)
    /// The image holds no ext2/3/4 file system at its start.
    case notExt4(image: String)
    /// No kernel at any of the places looked at.
    case noKernel(image: String, lookedAt: [String])
    /// A file in the image cannot be read out of it.
    case unreadableFile(image: String, path: String, reason: String)
    /// The kernel file is in a form Lockstep cannot boot.
    case unsupportedKernel(image: String, path: String, reason: String)

    public var description: String {
        switch self {
        case .toolMissing(let tool, let package):
            return "\(tool) not found: --boot-from-disk needs it on the host (apt-get install \(package)), or give --kernel and --initrd instead"
        case .unreadable(let image, let reason):
            return "\(image): \(reason)"
        case .partitioned(let image, let table):
            return "\(image) starts with a partition table (\(table)): --boot-from-disk reads an ext4 file system that fills the whole image (as guests/debian/build.sh makes it); copy the kernel and initrd out of the partition yourself and give --kernel and --initrd"
        case .notExt4(let image):
            return "\(image) holds no ext2/ext3/ext4 file system (no superblock magic 0xEF53 at byte 1080): --boot-from-disk reads the kernel from an ext4 root file system; give --kernel and --initrd for another disk"
        case .noKernel(let image, let lookedAt):
            return "no kernel in \(image) (looked at \(lookedAt.joined(separator: ", "))): install one in the image (Debian: linux-image-riscv64) or give --kernel and --initrd"
        case .unreadableFile(let image, let path, let reason):
            return "\(path) in \(image) cannot be read: \(reason); check the file system (e2fsck -fn \(image)) or give --kernel and --initrd"
        case .unsupportedKernel(let image, let path, let reason):
            return "the kernel \(path) in \(image) \(reason); give a RISC-V Image with --kernel (and --initrd)"
        }
    }
}
