/// Decides who may run a VM: an atomic test-and-set (compare-and-set) on the VM's generation.
///
/// Each VM, identified by its name, has one value: a generation number (`UInt64`, 0 = never
/// claimed) and the owner that set it (a node id; "" while the generation is 0). A node that wants
/// to run the VM claims the generation it last saw; exactly one claimer of a generation wins and
/// stores generation + 1 with its own name, every other claimer of that generation loses and
/// learns the winner. The rules the nodes follow (docs/arbitration.md): a backup goes live only if
/// it wins; a primary that has lost its backup continues alone only if it wins; the loser stops.
///
/// A won claim is durable before it is reported: no backend answers `.won` before the new value
/// is on stable storage. An error means the outcome is unknown: the claim may or may not have been
/// stored. Ask ``current(vm:)`` (or claim the same expected generation again): if the VM is at
/// expected + 1 and the owner is the caller's own, unique name, the earlier claim won.
///
/// The protocol is one compare-and-set on one key per VM, so a distributed store can serve it.
/// With etcd, the key is `/lockstep/vms/<vm>` and its value is `(generation, owner)`. Every won
/// claim is exactly one put, so the key's etcd version (0 while it does not exist, +1 per put)
/// equals the generation, and a claim is one transaction:
///
/// ```
/// Txn(If:   Version("/lockstep/vms/<vm>") == expectedGeneration
///     Then: Put("/lockstep/vms/<vm>", encode(expectedGeneration + 1, owner))   // .won
///     Else: Get("/lockstep/vms/<vm>"))                                          // .lost(decode(value))
/// ```
///
/// (comparing `Value(key) == encode(expected, currentOwner)` works as well). etcd answers a
/// transaction only once a quorum has committed it, which is the durability `.won` promises;
/// ``current(vm:)`` is a linearizable `Get`.
public protocol Arbiter: Sendable {
    /// Atomically: if the VM's stored generation equals `expectedGeneration`, store
    /// expectedGeneration + 1 with `owner` and return .won(expectedGeneration + 1); otherwise
    /// change nothing and return .lost(current, currentOwner).
    func claim(vm: String, expectedGeneration: UInt64, owner: String) async throws(ArbitrationError) -> ArbitrationOutcome
    /// The VM's current generation and owner (generation 0 and owner "" if never claimed).
    func current(vm: String) async throws(ArbitrationError) -> (generation: UInt64, owner: String)
}
