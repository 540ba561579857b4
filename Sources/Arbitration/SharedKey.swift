import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The secret that the nodes of a cluster and their arbiter share: every request and every answer
/// carries an HMAC-SHA256 with it, so a node only obeys its own arbiter and the arbiter only
/// serves its own nodes.
public struct SharedKey: Sendable {
    /// The secret (kept as bytes: Crypto's `SymmetricKey` is not `Sendable`).
    private let bytes: [UInt8]

    /// The secret as a key for Crypto's HMAC.
    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    /// A key made of `bytes` (any bytes, at least one).
    public init(bytes: some Collection<UInt8>) throws(ArbitrationError) {
        guard !bytes.isEmpty else { throw .invalidKey("the key is empty") }
        self.bytes = Array(bytes)
    }

    /// The key stored in the file at `path`: its bytes, without one trailing newline ("\n" or
    /// "\r\n"). A missing file or an empty key is an error that names the file.
    public init(contentsOfFile path: String) throws(ArbitrationError) {
        let contents: [UInt8]?
        do throws(ArbitrationError) {
            contents = try SystemFile(path: path, flags: O_RDONLY).readAll(limit: 1 << 20)
        } catch .fileFailed(_, _, let code) {
            throw .fileFailed(path: path, operation: "reading the shared key", errno: code)
        }
        guard var bytes = contents else {
            throw .invalidKey("the key file \(path) is larger than 1 MiB; is it the right file?")
        }
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else {
            throw .invalidKey("the key file \(path) is empty; write the cluster's shared secret into it (the same file on every node and on the arbiter)")
        }
        try self.init(bytes: bytes)
    }
}
