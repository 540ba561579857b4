#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Machine

/// A ``BlockStorage`` backed by a host file, read and written with `pread`/`pwrite`.
///
/// The capacity is the file's size at opening, rounded down to whole 512-byte sectors. The file is
/// a host resource: the machine stays deterministic only if nothing else changes the file while
/// the machine runs (the owner's responsibility; the `Machine` module never opens files).
public final class FileDisk: BlockStorage {
    public let path: String
    public let isReadOnly: Bool
    public let sectorCount: UInt64
    private let descriptor: Int32

    /// Opens the disk image at `path`, for reading only if `readOnly`.
    public init(path: String, readOnly: Bool = false) throws(BlockStorageError) {
        self.path = path
        isReadOnly = readOnly
        let fd = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard fd >= 0 else { throw FileDisk.error("cannot open \(path)") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = FileDisk.error("cannot stat \(path)")
            close(fd)
            throw error
        }
        descriptor = fd
        sectorCount = UInt64(info.st_size) / 512
    }

    deinit { close(descriptor) }

    public func readSectors(at sector: UInt64, count: Int) throws(BlockStorageError) -> [UInt8] {
        try checkRange(sector, count)
        var buffer = [UInt8](repeating: 0, count: count * 512)
        let offset = off_t(sector * 512)
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeMutableBytes { bytes in
                pread(descriptor, bytes.baseAddress! + done, bytes.count - done, offset + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileDisk.error("read of \(path) failed")
            }
            if n == 0 { break }   // the file shrank: the rest reads as zeros
            done += n
        }
        return buffer
    }

    public func writeSectors(at sector: UInt64, _ data: [UInt8]) throws(BlockStorageError) {
        guard !isReadOnly else { throw BlockStorageError("\(path) is read-only") }
        guard data.count % 512 == 0 else { throw BlockStorageError("partial sector write") }
        try checkRange(sector, data.count / 512)
        let offset = off_t(sector * 512)
        var done = 0
        while done < data.count {
            let n = data.withUnsafeBytes { bytes in
                pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, offset + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileDisk.error("write to \(path) failed")
            }
            if n == 0 { throw BlockStorageError("write to \(path) made no progress") }
            done += n
        }
    }

    public func flush() throws(BlockStorageError) {
        guard !isReadOnly else { return }
        // fdatasync, as QEMU's raw backend does: the data and what is needed to read it back
        // (allocations) become durable; the file's times need not (an image keeps its size).
        guard fdatasync(descriptor) == 0 else { throw FileDisk.error("fdatasync of \(path) failed") }
    }

    private func checkRange(_ sector: UInt64, _ count: Int) throws(BlockStorageError) {
        guard count >= 0, sector <= sectorCount, UInt64(count) <= sectorCount - sector else {
            throw BlockStorageError("sectors \(sector)+\(count) beyond the end of \(path)")
        }
    }

    private static func error(_ what: String) -> BlockStorageError {
        BlockStorageError("\(what): \(String(cString: strerror(errno)))")
    }
}
