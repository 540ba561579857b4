import Etcd
import FaultInjection
import Foundation
import Pool

/// A `PoolStore` on a real etcd of its own (one member on loopback, in a temporary directory),
/// for the duration of `body`; etcd is stopped and its data removed afterwards.
func withPoolStoreOnEtcd(_ name: String, _ body: (PoolStore) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-\(name)-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let cluster = try EtcdCluster(directory: directory)
    defer { cluster.shutdown() }
    try await body(PoolStore(client: EtcdClient(endpoints: try EtcdEndpoint.list(cluster.clientURLs))))
}
