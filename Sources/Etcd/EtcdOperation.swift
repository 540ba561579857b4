/// One request inside a transaction, or on its own (`etcdserverpb.RequestOp`).
public enum EtcdOperation: Equatable, Sendable {
    /// The keys from `key` up to `rangeEnd` (nil: only `key`).
    case range(key: [UInt8], rangeEnd: [UInt8]?)
    /// Stores `value` at `key`, bound to `lease` (0: none).
    case put(key: [UInt8], value: [UInt8], lease: Int64)
    /// Deletes the keys from `key` up to `rangeEnd` (nil: only `key`).
    case deleteRange(key: [UInt8], rangeEnd: [UInt8]?)

    /// `key` alone.
    public static func get(_ key: String) -> EtcdOperation { .range(key: Array(key.utf8), rangeEnd: nil) }
    /// Every key starting with `prefix`.
    public static func prefix(_ prefix: String) -> EtcdOperation {
        .range(key: Array(prefix.utf8), rangeEnd: EtcdOperation.rangeEnd(ofPrefix: Array(prefix.utf8)))
    }
    public static func put(_ key: String, _ value: [UInt8], lease: Int64 = 0) -> EtcdOperation {
        .put(key: Array(key.utf8), value: value, lease: lease)
    }
    public static func delete(_ key: String) -> EtcdOperation { .deleteRange(key: Array(key.utf8), rangeEnd: nil) }

    /// The end of the range of keys that start with `prefix`: the prefix with its last byte
    /// below 0xff incremented, the rest dropped ("\0" for everything, as etcdctl does).
    public static func rangeEnd(ofPrefix prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }
}

/// What one ``EtcdOperation`` answered (`etcdserverpb.ResponseOp`).
public enum EtcdOperationResult: Equatable, Sendable {
    case range([EtcdKeyValue])
    case put
    case deleteRange(deleted: Int64)
}

/// What a transaction answered.
public struct EtcdTransactionResult: Equatable, Sendable {
    /// Whether every compare held (then the success operations ran, else the failure ones).
    public var succeeded: Bool
    /// The store's revision after the transaction.
    public var revision: Int64
    /// One result per operation that ran.
    public var results: [EtcdOperationResult]
}
