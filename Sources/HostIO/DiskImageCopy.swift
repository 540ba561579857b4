#if canImport(Glibc)
import Glibc
#endif

/// Copies a raw disk image for a recording or a snapshot to keep (`LOG.disk`, `SNAPSHOT.disk`):
/// a reflink where the filesystem shares blocks (Linux's FICLONE: instant, no space until
/// either side is written), otherwise a sparse copy (all-zero 1 MiB chunks are left as holes).
public enum DiskImageCopy {
    /// Linux's FICLONE ioctl (`_IOW(0x94, 9, int)`).
    static let ficlone: UInt = 0x4004_9409

    /// Copies `source` to `destination` (created or replaced); a typed error names the file.
    public static func copy(from source: String, to destination: String) throws(DiskImageCopyError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw DiskImageCopyError(path: source, reason: String(cString: strerror(errno))) }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw DiskImageCopyError(path: source, reason: String(cString: strerror(errno))) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw DiskImageCopyError(path: destination, reason: String(cString: strerror(errno))) }
        defer { close(output) }
        if ioctl(output, ficlone, input) == 0 { return }
        guard ftruncate(output, info.st_size) == 0 else {
            throw DiskImageCopyError(path: destination, reason: String(cString: strerror(errno)))
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while offset < info.st_size {
            let n = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw DiskImageCopyError(path: source, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            if !ZeroBytes.allZero(buffer[0..<n]) {
                var done = 0
                while done < n {
                    let written = buffer.withUnsafeBytes { pwrite(output, $0.baseAddress! + done, n - done, offset + off_t(done)) }
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw DiskImageCopyError(path: destination, reason: String(cString: strerror(errno))) }
                    done += written
                }
            }
            offset += off_t(n)
        }
        guard fsync(output) == 0 else { throw DiskImageCopyError(path: destination, reason: String(cString: strerror(errno))) }
    }
}

/// A disk image that could not be copied.
public struct DiskImageCopyError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot copy the disk image (\(path)): \(reason)" }
}
