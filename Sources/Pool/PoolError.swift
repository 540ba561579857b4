import Etcd

/// What went wrong with the pool's state or a request about it; each says what to do.
public enum PoolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// etcd did not answer or refused.
    case etcd(EtcdError)
    /// A key holds something that is not a record of this version.
    case malformedRecord(key: String, detail: String)
    /// `lockstep vm create` of a name that exists.
    case vmExists(String)
    /// A VM name that is not declared.
    case noSuchVM(String)
    /// A request that cannot be carried out as given.
    case invalid(String)

    public var description: String {
        switch self {
        case .etcd(let error): return "\(error)"
        case .malformedRecord(let key, let detail):
            return "\(key) does not hold a Lockstep record (\(detail)); was it written by another version or by hand? Delete or repair it"
        case .vmExists(let name): return "VM '\(name)' is already declared; `lockstep vm delete \(name)` first, or choose another name"
        case .noSuchVM(let name): return "no VM '\(name)' is declared (`lockstep vm list` shows them)"
        case .invalid(let detail): return detail
        }
    }
}
