import Etcd
import Foundation

/// An arbiter on etcd v3: each VM's generation is the key `/lockstep/vms/<vm>/generation`, and a
/// claim is one transaction (the ``Arbiter`` protocol's own sketch):
///
/// ```
/// Txn(If:   Version(key) == expectedGeneration
///     Then: Put(key, {"generation": expectedGeneration + 1, "owner": owner})   // .won
///     Else: Get(key))                                                          // .lost
/// ```
///
/// Every won claim is exactly one put, so the key's version (0 while it does not exist, +1 per
/// put) is the generation; the value repeats it, and a value that disagrees with the version (a
/// hand-made put) is refused rather than trusted. etcd answers only once a quorum of members holds
/// the put, which is the durability `.won` promises, and a read is linearizable. etcd
/// unreachable, or without a quorum, is the arbiter unreachable: the outcome is unknown and the
/// node acts as it does when the built-in arbiter cannot be reached.
///
/// The generation is the fencing epoch: a node passes it in every handshake and refuses a peer
/// of an older one (docs/arbitration.md).
public struct EtcdArbiter: Arbiter {
    /// The etcd client (its members and timeout).
    public let client: EtcdClient
    /// The root of Lockstep's keys (`/lockstep`).
    public let prefix: String

    public init(client: EtcdClient, prefix: String = "/lockstep") {
        self.client = client
        self.prefix = prefix
    }

    /// The key that holds `vm`'s generation.
    public func key(vm: String) -> String { "\(prefix)/vms/\(vm)/generation" }

    public func claim(vm: String, expectedGeneration: UInt64, owner: String) async throws(ArbitrationError) -> ArbitrationOutcome {
        try ClaimTable.validate(vm: vm, expectedGeneration: expectedGeneration, owner: owner)
        try Self.validateForKey(vm)
        guard expectedGeneration < UInt64(Int64.max) else {
            throw .invalidRequest("the generation of VM \"\(vm)\" cannot grow beyond \(Int64.max) on etcd")
        }
        let key = key(vm: vm)
        let result: EtcdTransactionResult
        do {
            result = try await client.transaction(
                if: [EtcdCompare(key: key, .equal, .version(Int64(expectedGeneration)))],
                then: [.put(key, Self.encode(generation: expectedGeneration + 1, owner: owner))],
                else: [.get(key)])
        } catch {
            throw Self.arbitrationError(error)
        }
        if result.succeeded { return .won(generation: expectedGeneration + 1) }
        guard case .range(let values)? = result.results.first, let stored = values.first else {
            throw .arbiterFailed(address: address, reason: "the key \(key) does not exist, but this node saw generation \(expectedGeneration): "
                + "someone deleted it. Put it back at the highest generation any node of the VM has seen (a generation must never go back), or stop every node of the VM and start again")
        }
        let current = try decode(stored, key: key)
        guard current.generation != expectedGeneration else {
            throw .malformedResponse(address: address, detail: "the claim of generation \(expectedGeneration) failed, yet \(key) is at that generation")
        }
        return .lost(generation: current.generation, owner: current.owner)
    }

    public func current(vm: String) async throws(ArbitrationError) -> (generation: UInt64, owner: String) {
        try ClaimTable.validate(vm: vm)
        try Self.validateForKey(vm)
        let key = key(vm: vm)
        let stored: EtcdKeyValue?
        do { stored = try await client.get(key) } catch { throw Self.arbitrationError(error) }
        guard let stored else { return (0, "") }
        return try decode(stored, key: key)
    }

    /// The members, as errors name the arbiter.
    private var address: String { client.endpoints.map(\.description).joined(separator: ",") }

    static func encode(generation: UInt64, owner: String) -> [UInt8] {
        let object: [String: Any] = ["generation": String(generation), "owner": owner]
        return [UInt8]((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    private func decode(_ stored: EtcdKeyValue, key: String) throws(ArbitrationError) -> (generation: UInt64, owner: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(stored.value))) as? [String: Any],
              let generationText = object["generation"] as? String, let generation = UInt64(generationText),
              let owner = object["owner"] as? String else {
            throw .malformedResponse(address: address, detail: "\(key) holds \(String(decoding: stored.value.prefix(100), as: UTF8.self)), not a Lockstep generation")
        }
        guard generation == UInt64(max(0, stored.version)) else {
            throw .malformedResponse(address: address, detail: "\(key) says generation \(generation) but has been written \(stored.version) times: "
                + "it was changed by something other than a claim; repair it by hand")
        }
        return (generation, owner)
    }

    /// A VM name must be one path segment of the key.
    private static func validateForKey(_ vm: String) throws(ArbitrationError) {
        guard !vm.contains("/") else { throw .invalidRequest("a VM name on etcd cannot contain '/': \"\(vm)\"") }
    }

    static func arbitrationError(_ error: EtcdError) -> ArbitrationError {
        switch error {
        case .unreachable(let endpoints, let reason):
            return .unreachable(address: endpoints.joined(separator: ","), reason: reason)
        case .timeout(let endpoint, let seconds):
            return .timeout(address: endpoint, seconds: seconds)
        case .server(let endpoint, _, _):
            return .arbiterFailed(address: endpoint, reason: error.description)
        case .malformedResponse(let endpoint, let detail):
            return .malformedResponse(address: endpoint, detail: detail)
        case .invalidRequest(let detail):
            return .invalidRequest(detail)
        }
    }
}
