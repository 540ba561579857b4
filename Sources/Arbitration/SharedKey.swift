import Crypto
import LockstepSupport

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

    /// The key stored in the file at `path`, read by the rule of every key file (``KeyFile``: the
    /// file's bytes without trailing line ends; an empty key or a file over 1 MiB is refused). A
    /// file that cannot be read is ``ArbitrationError/fileFailed(path:operation:errno:)``; an
    /// empty or oversized one ``ArbitrationError/invalidKey(_:)``, naming the file.
    public init(contentsOfFile path: String) throws(ArbitrationError) {
        let bytes: [UInt8]
        do throws(KeyFileError) {
            bytes = try KeyFile.read(path: path)
        } catch .unreadable(let path, let code) {
            throw .fileFailed(path: path, operation: "reading the shared key", errno: code)
        } catch {
            throw .invalidKey(error.description)
        }
        try self.init(bytes: bytes)
    }
}
