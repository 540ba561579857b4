/// What can go wrong between two Lockstep nodes, said so that an operator knows what to do.
public enum ReplicationError: Error, Equatable, CustomStringConvertible {
    /// A frame or message does not follow the protocol (a stranger, or a corrupted stream).
    case malformedMessage(String)
    /// A frame's checksum does not match its contents.
    case checksumMismatch
    /// The peer speaks another protocol version.
    case unsupportedVersion(UInt8)
    /// The peer does not hold the shared key.
    case authenticationFailed(peer: String)
    /// The peer runs another VM.
    case wrongVM(peer: String, peerVM: String, ourVM: String)
    /// The peer refused us, with its reason.
    case refused(String)
    /// The snapshot that starts a backup could not be used.
    case badSnapshot(String)
    /// A listening address is unusable.
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case .malformedMessage(let what):
            return "malformed message on the logging channel (\(what)): the peer is not a Lockstep node of this version, or the stream is damaged"
        case .checksumMismatch:
            return "a frame on the logging channel fails its CRC-32 check: the stream is damaged"
        case .unsupportedVersion(let version):
            return "the peer speaks logging-channel protocol version \(version), this node version \(ReplicationFrameCodec.version): run the same Lockstep on both hosts"
        case .authenticationFailed(let peer):
            return "\(peer) failed authentication: it does not hold this VM's shared key (check --key-file on both hosts)"
        case .wrongVM(let peer, let peerVM, let ourVM):
            return "\(peer) belongs to VM '\(peerVM)', this node to VM '\(ourVM)': check --vm and the peer addresses"
        case .refused(let reason):
            return "the peer refused the connection: \(reason)"
        case .badSnapshot(let what):
            return "the initial snapshot from the primary is unusable: \(what)"
        case .cannotListen(let address, let reason):
            return "cannot listen on \(address): \(reason)"
        }
    }
}
