#if canImport(Glibc)
import Glibc
#endif

/// The default Linux guest: the kernel and initramfs that `guests/linux/build.sh` builds and
/// caches outside the clone, found through the `current` link it maintains.
struct DefaultGuest {
    let kernel: String
    let initrd: String

    /// `$LOCKSTEP_CACHE`, else `$HOME/.cache/lockstep`.
    static var cacheDirectory: String {
        if let cache = getenv("LOCKSTEP_CACHE"), cache.pointee != 0 { return String(cString: cache) }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/root"
        return home + "/.cache/lockstep"
    }

    static func locate() throws(GuestFileError) -> DefaultGuest {
        let directory = cacheDirectory + "/linux/current"
        let guest = DefaultGuest(kernel: directory + "/Image", initrd: directory + "/initramfs.cpio.gz")
        for path in [guest.kernel, guest.initrd] where access(path, R_OK) != 0 {
            throw GuestFileError(path: path, what: "default guest",
                                 reason: "not built yet: run guests/linux/build.sh (or scripts/demo.sh), or pass --kernel/--initrd, or --elf for a bare-metal program")
        }
        return guest
    }
}

/// A guest file (kernel, initrd, disk) that cannot be used, with what to do about it.
struct GuestFileError: Error, CustomStringConvertible {
    let path: String
    let what: String
    let reason: String
    var description: String { "\(what) \(path): \(reason)" }
}

/// Reads a whole guest file, with a clear error if it cannot be.
func readGuestFile(_ path: String, what: String) throws(GuestFileError) -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
        throw GuestFileError(path: path, what: what, reason: String(cString: strerror(errno)))
    }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 { throw GuestFileError(path: path, what: what, reason: String(cString: strerror(errno))) }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    if bytes.isEmpty { throw GuestFileError(path: path, what: what, reason: "the file is empty") }
    return bytes
}

/// Writes a whole guest file (created or truncated, mode 0644), with a clear error if it cannot be.
func writeGuestFile(_ path: String, bytes: [UInt8], what: String) throws(GuestFileError) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else {
        throw GuestFileError(path: path, what: what, reason: String(cString: strerror(errno)))
    }
    defer { close(descriptor) }
    var offset = 0
    while offset < bytes.count {
        let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
        if count < 0 { throw GuestFileError(path: path, what: what, reason: String(cString: strerror(errno))) }
        offset += count
    }
}
