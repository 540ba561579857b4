/// One key as etcd stores it (`mvccpb.KeyValue`).
public struct EtcdKeyValue: Equatable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    /// The revision of the put that created the key (since it last did not exist).
    public var createRevision: Int64
    /// The revision of the last put to the key.
    public var modRevision: Int64
    /// Puts since the key was created: 1 after the first.
    public var version: Int64
    /// The lease the key is bound to (0: none); the key goes when the lease expires.
    public var lease: Int64

    public init(key: [UInt8], value: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0, lease: Int64 = 0) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }

    /// The key as text (keys are chosen by Lockstep, all UTF-8).
    public var keyString: String { String(decoding: key, as: UTF8.self) }
}
