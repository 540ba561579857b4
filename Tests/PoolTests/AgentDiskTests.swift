import Etcd
import Foundation
@testable import Pool
import Testing

/// The disk a host's agent gives a VM's node: the declared image copied for the VM's first
/// primary, a new disk elsewhere, and a clear error when the image is not on the host.
struct AgentDiskTests {
    func agent(in directory: URL) -> Agent {
        var configuration = Agent.Configuration(host: HostRecord(name: "h1", address: "127.0.0.1", memoryMiB: 1024),
                                                etcdURLs: "http://127.0.0.1:1", dataDirectory: directory.path,
                                                lockstep: "/bin/false", keyFile: directory.appendingPathComponent("key").path)
        configuration.nodeArguments = []
        let store = PoolStore(client: EtcdClient(endpoints: [try! EtcdEndpoint(parsing: "http://127.0.0.1:1")]))
        return Agent(configuration: configuration, store: store, log: { _ in })
    }

    func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("agent-disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func theFirstPrimaryStartsFromTheDeclaredImageAndABackupFromABlankDisk() throws {
        let data = try directory()
        defer { try? FileManager.default.removeItem(at: data) }
        // An image of 1.5 MiB with data at both ends: its copy keeps them and is 2 MiB long.
        let source = data.appendingPathComponent("source.raw")
        var bytes = [UInt8](repeating: 0, count: 3 << 19)
        bytes[0] = 0xA5
        bytes[bytes.count - 1] = 0x5A
        try Data(bytes).write(to: source)
        var spec = VMSpec(name: "db", memoryMiB: 64, diskMiB: 2, append: "quiet", basePort: 7100)
        spec.diskImage = source.path

        let first = try directory(), second = try directory()
        defer { try? FileManager.default.removeItem(at: first); try? FileManager.default.removeItem(at: second) }
        let arguments = try agent(in: first).nodeArguments(spec, peer: nil, first: true)
        let image = first.appendingPathComponent("db.img").path
        #expect(arguments.contains(image))
        let copy = try Data(contentsOf: URL(fileURLWithPath: image))
        #expect(copy.count == 2 << 20)
        #expect(copy[0] == 0xA5 && copy[bytes.count - 1] == 0x5A && copy[bytes.count] == 0)

        // A later node (the VM has had a primary) gets a disk filled by its first join, not the image.
        _ = try agent(in: second).nodeArguments(spec, peer: "127.0.0.2", first: false)
        let blank = try Data(contentsOf: second.appendingPathComponent("db.img"))
        #expect(blank.count == 2 << 20)
        #expect(blank[0] != 0xA5)
    }

    @Test func anImageTheHostCannotReadIsAnErrorNamingTheHostAndTheImage() throws {
        let data = try directory()
        defer { try? FileManager.default.removeItem(at: data) }
        var spec = VMSpec(name: "db", memoryMiB: 64, diskMiB: 2, append: "quiet", basePort: 7100)
        spec.diskImage = "/nonexistent/db.raw"
        #expect {
            try agent(in: data).nodeArguments(spec, peer: nil, first: true)
        } throws: { error in
            "\(error)".contains("/nonexistent/db.raw") && "\(error)".contains("host h1")
        }
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("db.img").path))
    }
}
