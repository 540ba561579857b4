/// One condition of a transaction (`etcdserverpb.Compare`).
public struct EtcdCompare: Equatable, Sendable {
    /// What is compared, and with what.
    public enum Target: Equatable, Sendable {
        /// The key's version (0: it does not exist).
        case version(Int64)
        /// The revision that created the key (0: it does not exist).
        case createRevision(Int64)
        /// The revision of the key's last put.
        case modRevision(Int64)
        /// The key's value.
        case value([UInt8])
    }

    /// How.
    public enum Result: String, Sendable {
        case equal = "EQUAL", notEqual = "NOT_EQUAL", greater = "GREATER", less = "LESS"
    }

    public var key: [UInt8]
    public var result: Result
    public var target: Target

    public init(key: [UInt8], _ result: Result, _ target: Target) {
        self.key = key
        self.result = result
        self.target = target
    }

    public init(key: String, _ result: Result, _ target: Target) {
        self.init(key: Array(key.utf8), result, target)
    }
}
