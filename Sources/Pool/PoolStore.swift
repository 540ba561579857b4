import Etcd
import Foundation
import Machine

/// The pool's state in etcd, read and written as records (docs/pool.md for the keys).
public struct PoolStore: Sendable {
    public let client: EtcdClient
    public let keys: PoolKeys

    public init(client: EtcdClient, keys: PoolKeys = PoolKeys()) {
        self.client = client
        self.keys = keys
    }

    /// Everything about the VMs, from one read.
    public struct VMState: Sendable {
        public var specs: [VMSpec] = []
        public var placements: [String: Placement] = [:]
        /// The etcd revision of each placement as read (for a compare-and-set).
        public var placementRevisions: [String: Int64] = [:]
        public var nodes: [String: [NodeStatus]] = [:]
        /// The etcd revision of each node's report as read (by VM, then host).
        public var nodeRevisions: [String: [String: Int64]] = [:]
        public var generations: [String: (generation: UInt64, owner: String)] = [:]
        /// Switchovers asked for and not yet done: the primary's host when each was asked, and
        /// the request's etcd revision (its id).
        public var switchoverFrom: [String: (host: String, revision: Int64)] = [:]
        /// Moves of a VM's backup asked for: the target host.
        public var moves: [String: String] = [:]
        /// What the health policy last did about each VM.
        public var healthActions: [String: HealthActions] = [:]

        /// Reads a report of a live primary from a host that is not the arbiter's owner of the
        /// VM's generation as what it is: stale (``NodeStatus/Role/starting``). A primary that
        /// handed over, was fenced or died keeps its last report in etcd until its agent reports
        /// again or its host's lease expires; meanwhile the owner, which claimed the generation
        /// before it went live, is the primary (a switchover's old primary read as "primary"
        /// beside the new one's "primary-alone" made a VM look protected, and its primary the
        /// old host, for a moment after every switchover). Only where the owner is one of the
        /// hosts reporting a node of the VM (nodes started by hand may have other names).
        public mutating func markStalePrimaries() {
            for (vm, reports) in nodes {
                guard let owner = generations[vm]?.owner, reports.contains(where: { $0.host == owner }) else { continue }
                nodes[vm] = reports.map { report in
                    var report = report
                    if (report.role == .primary || report.role == .primaryAlone) && report.host != owner { report.role = .starting }
                    return report
                }
            }
        }

        /// Where each VM's backup in step is, from the nodes' reports.
        public var backups: [String: String] {
            nodes.compactMapValues { nodes in nodes.first { $0.role == .backup }?.host }
        }

        /// Where each VM's live primary is, from the nodes' reports (a stale one is no longer
        /// read as a primary: ``markStalePrimaries()``).
        public var primaries: [String: String] {
            nodes.compactMapValues { nodes in nodes.first { $0.role == .primary || $0.role == .primaryAlone }?.host }
        }

        /// The host each VM's live primary declared lost (its lines silent past the heartbeat
        /// timeout), unless that host has reported a node of the VM since (a node placed there
        /// again after the loss is not the one that was lost). "Since" compares etcd revisions:
        /// the lost host's report against the first report of the declaration.
        public var lostPeers: [String: String] {
            var lost: [String: String] = [:]
            for (vm, reports) in nodes {
                guard let primary = reports.first(where: { ($0.role == .primary || $0.role == .primaryAlone) && $0.lostPeer != nil }),
                      let peer = primary.lostPeer else { continue }
                let declared = primary.lostPeerRevision ?? nodeRevisions[vm]?[primary.host] ?? 0
                if let reported = nodeRevisions[vm]?[peer], reported > declared { continue }
                lost[vm] = peer
            }
            return lost
        }

        /// The VMs with a primary and a backup in step.
        public var protected: Set<String> {
            Set(nodes.filter { _, nodes in nodes.contains { $0.role == .primary } && nodes.contains { $0.role == .backup } }.keys)
        }
    }

    /// The hosts alive (their lease is renewed).
    public func hosts() async throws(PoolError) -> [HostRecord] {
        try hosts(from: try await list(keys.hosts))
    }

    public func vms() async throws(PoolError) -> VMState {
        try vms(from: try await list(keys.vms))
    }

    /// The keys under `prefix`.
    private func list(_ prefix: String) async throws(PoolError) -> [EtcdKeyValue] {
        do { return try await client.list(prefix: prefix).keyValues } catch { throw .etcd(error) }
    }

    /// The host records among `values` (keys under ``PoolKeys/hosts``).
    func hosts(from values: [EtcdKeyValue]) throws(PoolError) -> [HostRecord] {
        var hosts: [HostRecord] = []
        for value in values { hosts.append(try PoolJSON.decode(HostRecord.self, value.value, key: value.keyString)) }
        return hosts
    }

    /// The VMs' records among `values` (keys under ``PoolKeys/vms``).
    func vms(from values: [EtcdKeyValue]) throws(PoolError) -> VMState {
        var state = VMState()
        for value in values {
            let key = value.keyString
            let parts = key.dropFirst(keys.vms.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { continue }
            let vm = parts[0]
            switch parts[1] {
            case "spec": state.specs.append(try PoolJSON.decode(VMSpec.self, value.value, key: key))
            case "placement":
                state.placements[vm] = try PoolJSON.decode(Placement.self, value.value, key: key)
                state.placementRevisions[vm] = value.modRevision
            case "nodes" where parts.count == 3:
                let status = try PoolJSON.decode(NodeStatus.self, value.value, key: key)
                state.nodes[vm, default: []].append(status)
                state.nodeRevisions[vm, default: [:]][status.host] = value.modRevision
            case "switchover":
                state.switchoverFrom[vm] = (String(decoding: value.value, as: UTF8.self), value.modRevision)
            case "health-actions":
                state.healthActions[vm] = try PoolJSON.decode(HealthActions.self, value.value, key: key)
            case "move":
                state.moves[vm] = String(decoding: value.value, as: UTF8.self)
            case "generation":
                if let object = (try? JSONSerialization.jsonObject(with: Data(value.value))) as? [String: Any],
                   let text = object["generation"] as? String, let generation = UInt64(text) {
                    state.generations[vm] = (generation, object["owner"] as? String ?? "")
                }
            default: break
            }
        }
        state.markStalePrimaries()
        return state
    }

    /// Declares a VM; refuses a name that exists. Its ports are the first block of three free
    /// on every host (`basePort` 7100, 7110, ...) unless `spec.basePort` is set (non-zero; refused
    /// if another VM has one of its three ports). Its MAC address is `spec.mac` if set (refused if
    /// another VM has it), else one the pool picks (``PoolMACAddress``), unique among the VMs
    /// declared. The spec is written with claims on its MAC address and ports in one transaction
    /// (``PoolKeys/claims``): a VM declared at the same moment with the same picks makes it fail,
    /// and the picks are made again with that VM in view.
    public func create(_ spec: VMSpec) async throws(PoolError) -> VMSpec {
        guard !spec.name.isEmpty, !spec.name.contains("/"), spec.name.utf8.count <= 200 else {
            throw .invalid("a VM name is 1 to 200 bytes without '/': \"\(spec.name)\"")
        }
        guard spec.memoryMiB >= 16 else { throw .invalid("--memory must be at least 16 MiB") }
        for _ in 0..<20 {
            var spec = spec
            let others = try await vms().specs
            spec.basePort = try Self.basePort(for: spec, others: others)
            spec.mac = MACAddress.format(try Self.macAddress(for: spec, others: others))
            let claims = keys.claims(of: spec)
            let result: EtcdTransactionResult
            do {
                result = try await client.transaction(if: ([keys.spec(spec.name)] + claims).map { EtcdCompare(key: $0, .equal, .version(0)) },
                                                      then: [.put(keys.spec(spec.name), PoolJSON.encode(spec))] + claims.map { .put($0, Array(spec.name.utf8)) })
            } catch { throw .etcd(error) }
            if result.succeeded { return spec }
            // Declared meanwhile: this name, or another VM with the same picks (seen on the next read).
            if try await exists(keys.spec(spec.name)) { throw .vmExists(spec.name) }
        }
        throw .invalid("VM '\(spec.name)': other VMs kept taking the same MAC address or ports while it was declared; try again")
    }

    /// Whether `key` exists.
    private func exists(_ key: String) async throws(PoolError) -> Bool {
        do { return try await client.get(key) != nil } catch { throw .etcd(error) }
    }

    /// The ports of a new VM: `spec.basePort` (checked against `others`' blocks of three), or the
    /// first block free (7100, 7110, ...).
    static func basePort(for spec: VMSpec, others: [VMSpec]) throws(PoolError) -> Int {
        if spec.basePort != 0 {
            guard (1...65533).contains(spec.basePort) else { throw .invalid("--base-port: \(spec.basePort) is not a port with two more after it") }
            if let other = others.first(where: { abs($0.basePort - spec.basePort) < 3 }) {
                throw .invalid("--base-port \(spec.basePort): VM '\(other.name)' has ports \(other.basePort)-\(other.basePort + 2); give another, or none and the pool picks free ones")
            }
            return spec.basePort
        }
        let taken = Set(others.map(\.basePort))
        guard let port = stride(from: 7100, to: 60000, by: 10).first(where: { base in !taken.contains { abs($0 - base) < 3 } }) else {
            throw .invalid("no free ports left for another VM")
        }
        return port
    }

    /// The MAC address of a new VM: `spec.mac` (checked, and refused if one of `others` has it),
    /// or the one ``PoolMACAddress`` picks for its name.
    static func macAddress(for spec: VMSpec, others: [VMSpec]) throws(PoolError) -> [UInt8] {
        // A VM declared before the pool picked addresses has QEMU's default.
        var owners: [[UInt8]: String] = [:]
        for other in others { owners[(other.mac.flatMap { try? MACAddress.parse($0) }) ?? VirtioNetwork.defaultMAC] = other.name }
        guard let text = spec.mac else { return PoolMACAddress.assign(for: spec.name, taken: Set(owners.keys)) }
        let mac: [UInt8]
        do { mac = try MACAddress.parse(text) } catch { throw .invalid("--mac: \(error)") }
        if let owner = owners[mac] {
            throw .invalid("MAC address \(MACAddress.format(mac)) belongs to VM '\(owner)': two VMs on one LAN cannot share one; give another --mac, or none and the pool picks a free one")
        }
        return mac
    }

    /// Deletes a VM's every key (its generation included) and its claims (``PoolKeys/claims``),
    /// in one transaction: the agents stop its nodes.
    public func delete(vm: String) async throws(PoolError) {
        let stored: EtcdKeyValue?
        do { stored = try await client.get(keys.spec(vm)) } catch { throw .etcd(error) }
        var claims: [String] = []
        if let stored { claims = keys.claims(of: try PoolJSON.decode(VMSpec.self, stored.value, key: stored.keyString)) }
        let result: EtcdTransactionResult
        do {
            let prefix = keys.vms + vm + "/"
            result = try await client.transaction(if: [], then: [.deleteRange(key: Array(prefix.utf8), rangeEnd: EtcdOperation.rangeEnd(ofPrefix: Array(prefix.utf8)))]
                                                   + claims.map { .delete($0) })
        } catch { throw .etcd(error) }
        guard case .deleteRange(let deleted)? = result.results.first, deleted > 0 else { throw .noSuchVM(vm) }
    }

    /// Writes a placement if it has not changed since `revision` (0: it did not exist).
    public func setPlacement(_ placement: Placement, vm: String, ifRevision revision: Int64) async throws(PoolError) -> Bool {
        do {
            let key = keys.placement(vm)
            let compare = revision == 0 ? EtcdCompare(key: key, .equal, .version(0)) : EtcdCompare(key: key, .equal, .modRevision(revision))
            return try await client.transaction(if: [compare], then: [.put(key, PoolJSON.encode(placement))]).succeeded
        } catch { throw .etcd(error) }
    }

    /// Asks for a planned switchover of `vm` away from `primary` (the agent of that host signals its node).
    public func requestSwitchover(vm: String, from primary: String) async throws(PoolError) {
        do { try await client.put(keys.switchover(vm), Array(primary.utf8)) } catch { throw .etcd(error) }
    }

    /// Asks for `vm`'s backup on `host`.
    public func requestMove(vm: String, backupTo host: String) async throws(PoolError) {
        do { try await client.put(keys.move(vm), Array(host.utf8)) } catch { throw .etcd(error) }
    }

    public func clearMove(vm: String) async throws(PoolError) {
        do { try await client.delete(keys.move(vm)) } catch { throw .etcd(error) }
    }

    /// Writes what the health policy did about `vm`.
    public func setHealthActions(_ actions: HealthActions, vm: String) async throws(PoolError) {
        do { try await client.put(keys.healthActions(vm), PoolJSON.encode(actions)) } catch { throw .etcd(error) }
    }

    /// The hosts the health policy suspects, with why.
    public func suspects() async throws(PoolError) -> [String: String] {
        suspects(from: try await list(keys.suspects))
    }

    /// The suspect hosts and why, among `values` (keys under ``PoolKeys/suspects``).
    func suspects(from values: [EtcdKeyValue]) -> [String: String] {
        Dictionary(values.map { (String($0.keyString.dropFirst(keys.suspects.count)), String(decoding: $0.value, as: UTF8.self)) },
                   uniquingKeysWith: { a, _ in a })
    }

    /// Marks `host` suspect with `reason`, or (nil) clears it.
    public func setSuspect(_ host: String, reason: String?) async throws(PoolError) {
        do {
            if let reason { try await client.put(keys.suspect(host), Array(reason.utf8)) } else { try await client.delete(keys.suspect(host)) }
        } catch { throw .etcd(error) }
    }

    /// The hosts being drained.
    public func drained() async throws(PoolError) -> Set<String> {
        drained(from: try await list(keys.drains))
    }

    /// The hosts being drained, among `values` (keys under ``PoolKeys/drains``).
    func drained(from values: [EtcdKeyValue]) -> Set<String> {
        Set(values.map { String($0.keyString.dropFirst(keys.drains.count)) })
    }

    /// Starts (or, with `false`, ends) draining `host`.
    public func setDrain(_ host: String, _ draining: Bool) async throws(PoolError) {
        do {
            if draining { try await client.put(keys.drain(host), Array("drain".utf8)) } else { try await client.delete(keys.drain(host)) }
        } catch { throw .etcd(error) }
    }

    /// The switchover request is done (or abandoned).
    public func clearSwitchover(vm: String) async throws(PoolError) {
        do { try await client.delete(keys.switchover(vm)) } catch { throw .etcd(error) }
    }

    /// Registers (or re-registers) a host under `lease`.
    public func register(_ host: HostRecord, lease: Int64) async throws(PoolError) {
        do { try await client.put(keys.host(host.name), PoolJSON.encode(host), lease: lease) } catch { throw .etcd(error) }
    }

    /// Writes a node's report; returns the etcd revision it was written at.
    @discardableResult
    public func report(_ status: NodeStatus, vm: String, lease: Int64) async throws(PoolError) -> Int64 {
        do { return try await client.put(keys.node(vm, host: status.host), PoolJSON.encode(status), lease: lease) } catch { throw .etcd(error) }
    }

    public func clearReport(vm: String, host: String) async throws(PoolError) {
        do { try await client.delete(keys.node(vm, host: host)) } catch { throw .etcd(error) }
    }

    /// Becomes the pool's leader if nobody is (the key bound to `lease`); true if `name` leads now.
    public func campaign(_ name: String, lease: Int64) async throws(PoolError) -> Bool {
        do {
            let result = try await client.transaction(
                if: [EtcdCompare(key: keys.leader, .equal, .createRevision(0))],
                then: [.put(keys.leader, Array(name.utf8), lease: lease)],
                else: [.get(keys.leader)])
            if result.succeeded { return true }
            guard case .range(let values)? = result.results.first, let value = values.first else { return false }
            return value.value == Array(name.utf8) && value.lease == lease
        } catch { throw .etcd(error) }
    }
}
