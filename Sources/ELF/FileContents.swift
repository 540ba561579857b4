#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file into memory with POSIX calls, turning every failure into
/// `ELFError.unreadable` with a reason a user can act on.
enum FileContents {
    /// No Lockstep program is this big; the cap also stops a FIFO that never ends.
    static let maximumSize = 1 << 30

    /// The bytes of the regular file (or FIFO) at `path`.
    static func load(_ path: String) throws(ELFError) -> [UInt8] {
        guard !path.isEmpty else {
            throw .unreadable(path: path, reason: "the path is empty; pass the path of a RISC-V ELF executable")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: explain(errno)) }
        defer { _ = close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: explain(errno)) }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR { throw .unreadable(path: path, reason: explain(EISDIR)) }
        guard kind == S_IFREG || kind == S_IFIFO else {
            throw .unreadable(path: path, reason: "it is not a regular file (a device or socket?); "
                + "pass the path of a RISC-V ELF executable")
        }

        var bytes: [UInt8] = []
        if kind == S_IFREG, info.st_size > 0, info.st_size <= maximumSize {
            bytes.reserveCapacity(Int(info.st_size))
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                let error = errno
                if error == EINTR { continue }
                throw .unreadable(path: path, reason: explain(error))
            }
            guard bytes.count + n <= maximumSize else {
                throw .unreadable(path: path, reason: "it is larger than \(maximumSize >> 20) MiB, "
                    + "far too big to be a Lockstep program; pass a RISC-V ELF executable")
            }
            bytes.append(contentsOf: chunk[0 ..< n])
        }
        return bytes
    }

    /// A reason for `errno` value `error`, with advice for the common cases.
    static func explain(_ error: Int32) -> String {
        switch error {
        case ENOENT:
            return "no such file; check the path (and that the program was built)"
        case EACCES, EPERM:
            return "permission denied; make the file readable (chmod +r) or run as a user who can read it"
        case EISDIR:
            return "it is a directory; pass the ELF executable itself, not the directory containing it"
        case ENOTDIR:
            return "a component of the path is not a directory; check the path"
        case ELOOP:
            return "too many levels of symbolic links; check the path"
        case ENAMETOOLONG:
            return "the path is too long; use a shorter path"
        default:
            let text = strerror(error).map { String(cString: $0) } ?? "error \(error)"
            return "\(text) (errno \(error)); check the file and try again"
        }
    }
}
