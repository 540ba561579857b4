import Etcd

/// The whole pool as of one etcd revision: hosts, VMs, drains and suspects from one range read
/// (``PoolStore/snapshot()``). An agent's round decides from one snapshot (and the leader
/// reads a second after its writes), instead of a read per kind of record: a fraction of the
/// requests, and every decision of a round made against one consistent state.
public struct PoolSnapshot: Sendable {
    public var hosts: [HostRecord]
    public var state: PoolStore.VMState
    public var drained: Set<String>
    public var suspects: [String: String]
}

extension PoolStore {
    /// Reads the pool's keys at once (see ``PoolSnapshot``): one range from `drain/` to the end
    /// of `vms/`, which in etcd's byte order holds drains, hosts, the leader, suspects and VMs, and
    /// leaves out `claims/` (read only by `vm create`, and four keys per VM).
    public func snapshot() async throws(PoolError) -> PoolSnapshot {
        let values: [EtcdKeyValue]
        let range = EtcdOperation.range(key: Array(keys.drains.utf8), rangeEnd: EtcdOperation.rangeEnd(ofPrefix: Array(keys.vms.utf8)))
        do { values = try await client.range(range).keyValues } catch { throw .etcd(error) }
        func under(_ prefix: String) -> [EtcdKeyValue] { values.filter { $0.keyString.hasPrefix(prefix) } }
        return PoolSnapshot(hosts: try hosts(from: under(keys.hosts)), state: try vms(from: under(keys.vms)),
                            drained: drained(from: under(keys.drains)), suspects: suspects(from: under(keys.suspects)))
    }
}
