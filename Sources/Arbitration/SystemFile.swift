#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file with the few system calls the arbiter's durable state needs. Every failure is an
/// ``ArbitrationError/fileFailed(path:operation:errno:)`` naming the path. Closing the file (when
/// the value goes away) releases its lock.
struct SystemFile: ~Copyable {
    let descriptor: Int32
    let path: String

    /// Opens `path` with `open(2)` flags (`O_CLOEXEC` is added).
    init(path: String, flags: Int32, mode: mode_t = 0o644) throws(ArbitrationError) {
        var descriptor: Int32
        repeat { descriptor = open(path, flags | O_CLOEXEC, mode) } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw .fileFailed(path: path, operation: "open", errno: errno) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// The whole file, read from offset 0 to its end; nil if it is longer than `limit` bytes.
    func readAll(limit: Int) throws(ArbitrationError) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileFailed(path: path, operation: "read", errno: errno)
            }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            guard bytes.count <= limit else { return nil }
        }
    }

    /// Makes `bytes` the file's whole contents: writes them from offset 0, then cuts the file to
    /// their length. Not atomic; see ``FileArbiter`` for why that is safe.
    func replaceContents(with bytes: [UInt8]) throws(ArbitrationError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes {
                pwrite(descriptor, $0.baseAddress! + written, $0.count - written, off_t(written))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileFailed(path: path, operation: "write", errno: errno)
            }
            written += count
        }
        guard ftruncate(descriptor, off_t(bytes.count)) == 0 else {
            throw .fileFailed(path: path, operation: "truncate", errno: errno)
        }
    }

    /// `fsync(2)`: the contents are on stable storage when this returns.
    func synchronize() throws(ArbitrationError) {
        guard fsync(descriptor) == 0 else { throw .fileFailed(path: path, operation: "fsync", errno: errno) }
    }

    /// Takes a lock on the whole file, owned by this open file (not by the process, so threads
    /// with their own `SystemFile` exclude each other). `wait` blocks until the lock is free;
    /// otherwise returns false at once if someone else holds it.
    ///
    /// On Linux this is an open-file-description record lock (`F_OFD_SETLKW`), which the kernel's
    /// NFS client forwards to the server like any POSIX record lock; elsewhere `flock(2)`.
    @discardableResult
    func lock(exclusive: Bool, wait: Bool) throws(ArbitrationError) -> Bool {
        #if os(Linux)
        var request = flock()
        request.l_type = Int16(exclusive ? F_WRLCK : F_RDLCK)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = 0
        request.l_len = 0   // to the end of the file, however long it grows
        let command = wait ? Self.ofdSetLockWait : Self.ofdSetLock
        while fcntl(descriptor, command, &request) != 0 {
            if errno == EINTR { continue }
            if !wait && (errno == EAGAIN || errno == EACCES) { return false }
            throw .fileFailed(path: path, operation: "lock", errno: errno)
        }
        #else
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)
        while flock(descriptor, operation) != 0 {
            if errno == EINTR { continue }
            if !wait && errno == EWOULDBLOCK { return false }
            throw .fileFailed(path: path, operation: "lock", errno: errno)
        }
        #endif
        return true
    }

    /// Releases the lock taken with ``lock(exclusive:wait:)`` (closing the file does too).
    func unlock() {
        #if os(Linux)
        var request = flock()
        request.l_type = Int16(F_UNLCK)
        request.l_whence = Int16(SEEK_SET)
        _ = fcntl(descriptor, Self.ofdSetLock, &request)
        #else
        _ = flock(descriptor, LOCK_UN)
        #endif
    }

    #if os(Linux)
    // <fcntl.h> defines these only under _GNU_SOURCE, which Swift's Glibc module does not set;
    // the values are the same on every Linux architecture (since Linux 3.15).
    private static let ofdSetLock: Int32 = 37
    private static let ofdSetLockWait: Int32 = 38
    #endif

    /// `fsync(2)` on the directory that holds `path`, so that a file created or renamed there
    /// survives a crash.
    static func synchronizeDirectory(containing path: String) throws(ArbitrationError) {
        let directory = SystemFile.directory(of: path)
        let file = try SystemFile(path: directory, flags: O_RDONLY | O_DIRECTORY)
        try file.synchronize()
    }

    /// `rename(2)`: atomically replaces `destination` with `source`.
    static func move(_ source: String, to destination: String) throws(ArbitrationError) {
        guard rename(source, destination) == 0 else {
            throw .fileFailed(path: destination, operation: "rename \(source) to", errno: errno)
        }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
