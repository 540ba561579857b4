import Crypto

/// Challenge-response authentication of the two nodes of a VM with a shared key.
///
/// Each side opens with a ``Hello`` carrying a fresh random nonce; each answers the other's hello
/// with `HMAC-SHA256(key, "lockstep-replication-v1" | vm | their nonce | our nonce | our node id)`.
/// A proof binds the VM name and both nonces, so it cannot be replayed on another connection or
/// for another VM; a peer without the key cannot produce one.
public struct PeerAuthentication: Sendable {
    let keyBytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    public let vm: String
    public let nodeID: String
    /// The nonce this side sent.
    public let nonce: [UInt8]

    public init(key: [UInt8], vm: String, nodeID: String) {
        keyBytes = key
        self.vm = vm
        self.nodeID = nodeID
        nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }
    }

    public var hello: Hello { Hello(vm: vm, nodeID: nodeID, nonce: nonce) }

    /// The proof this side sends in answer to the peer's hello.
    public func proof(answering peer: Hello) -> [UInt8] {
        Self.mac(key: key, vm: vm, theirNonce: peer.nonce, ourNonce: nonce, nodeID: nodeID)
    }

    /// Whether `proof` shows that the peer who sent `peer` holds the key.
    public func verify(_ proof: [UInt8], from peer: Hello) -> Bool {
        let expected = Self.mac(key: key, vm: peer.vm, theirNonce: nonce, ourNonce: peer.nonce, nodeID: peer.nodeID)
        guard proof.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(proof, expected) { difference |= a ^ b }
        return difference == 0
    }

    static func mac(key: SymmetricKey, vm: String, theirNonce: [UInt8], ourNonce: [UInt8], nodeID: String) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        for part in [Array("lockstep-replication-v1".utf8), Array(vm.utf8), theirNonce, ourNonce, Array(nodeID.utf8)] {
            var length = UInt32(part.count).littleEndian
            withUnsafeBytes(of: &length) { hmac.update(data: Array($0)) }
            hmac.update(data: part)
        }
        return Array(hmac.finalize())
    }
}
