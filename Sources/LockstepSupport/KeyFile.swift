#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file holding a cluster's shared secret (`--key-file` of `lockstep node` and `lockstep
/// arbiter`). One rule for every reader: the key is the file's bytes without any trailing
/// carriage returns and newlines, so "secret", "secret\n", "secret\r\n" and "secret\n\n" are the
/// same key. An empty key and a file over ``maximumSize`` are refused.
public enum KeyFile {
    /// The largest key file read (a key file is a line or a few; a larger file is the wrong file).
    public static let maximumSize = 1 << 20

    /// The key in the file at `path`.
    public static func read(path: String) throws(KeyFileError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(path: path, errno: errno) }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, errno: errno)
            }
            if count == 0 { break }
            contents += buffer[0..<count]
            if contents.count > maximumSize { throw .tooLarge(path: path) }
        }
        return try key(from: contents, path: path)
    }

    /// The key that a key file holding `contents` gives (``read(path:)`` without the file).
    public static func key(from contents: [UInt8], path: String) throws(KeyFileError) -> [UInt8] {
        guard contents.count <= maximumSize else { throw .tooLarge(path: path) }
        var bytes = contents
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw .empty(path: path) }
        return bytes
    }
}
