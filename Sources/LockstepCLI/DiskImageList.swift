import ArgumentParser
import Machine
#if canImport(Glibc)
import Glibc
#endif

/// The disk images a command is given (`--disk`, repeatable): in order, the first is the
/// machine's first disk (`/dev/vda` in Linux), the second `/dev/vdb`, and so on (see
/// ``Machine/diskSlots``). At most ``Machine/maximumDiskCount``, none given twice; a snapshot or
/// a recording keeps its copies beside it as `FILE.disk`, `FILE.disk2`, `FILE.disk3`, ...
enum DiskImageList {
    /// The help line of `--disk` for `run` and `snapshot`.
    static let help = "Raw disk image attached as a virtio-blk disk; repeat it for more disks (at most \(Machine.maximumDiskCount)): the first is /dev/vda, the second /dev/vdb, and so on."

    /// Checks the count and that no image is named twice (the same file under two names
    /// included: two disks on one file would overwrite each other).
    static func validate(_ paths: [String]) throws {
        guard paths.count <= Machine.maximumDiskCount else {
            throw ValidationError("--disk is given \(paths.count) times, but a machine has at most \(Machine.maximumDiskCount) disks: give at most \(Machine.maximumDiskCount)")
        }
        var seen: [(path: String, device: UInt64, inode: UInt64)] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }   // opening it says what is wrong
            if let first = seen.first(where: { $0.device == UInt64(info.st_dev) && $0.inode == UInt64(info.st_ino) }) {
                let same = first.path == path ? "\(path) is given twice" : "\(first.path) and \(path) are the same file"
                throw ValidationError("--disk: \(same): each disk needs its own image")
            }
            seen.append((path, UInt64(info.st_dev), UInt64(info.st_ino)))
        }
    }

    /// Where a snapshot or a recording at `base` keeps the disk at `index` (from 0):
    /// `BASE.disk` for the first, `BASE.disk2` for the second, ...
    static func keptCopy(of base: String, index: Int) -> String {
        base + ".disk" + (index == 0 ? "" : "\(index + 1)")
    }

    /// "disk 2 (/dev/vdb)" for messages: a disk's place (from 0) and its name in a Linux guest.
    static func name(_ index: Int) -> String {
        let letter = Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(index)))
        return "disk \(index + 1) (/dev/vd\(letter))"
    }
}
