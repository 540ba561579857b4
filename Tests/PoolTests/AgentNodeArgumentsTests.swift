import Etcd
import Foundation
import HostIO
import Logging
@testable import Pool
import Testing

/// The node command line an agent derives from a VM's spec and its placement.
struct AgentNodeArgumentsTests {
    static func agent(nodeArguments: [String], dataDirectory: String = "/nonexistent") -> Agent {
        var configuration = Agent.Configuration(host: HostRecord(name: "h1", address: "10.99.0.1", memoryMiB: 1024),
                                                etcdURLs: "http://10.99.0.1:2379", dataDirectory: dataDirectory,
                                                lockstep: "/usr/bin/lockstep", keyFile: "/etc/lockstep/key")
        configuration.nodeArguments = nodeArguments
        return Agent(configuration: configuration, store: PoolStore(client: EtcdClient(endpoints: [EtcdEndpoint(host: "10.99.0.1", port: 2379)])),
                     logger: Logger(label: "test"))
    }

    /// `{vm}` in an extra node argument becomes the VM's name, so that each VM's nodes can have a
    /// file of their own (two VMs' release logs in one file could not be told apart).
    @Test func theVMPlaceholderIsReplacedInExtraArguments() throws {
        let agent = Self.agent(nodeArguments: ["--release-log", "/logs/{vm}.release", "--heartbeat-timeout", "400"])
        let first = try agent.nodeArguments(VMSpec(name: "r1", memoryMiB: 256, append: "quiet", basePort: 7110), peer: "10.99.0.2")
        let second = try agent.nodeArguments(VMSpec(name: "r2", memoryMiB: 256, append: "quiet", basePort: 7120), peer: nil)
        #expect(first.suffix(4) == ["--release-log", "/logs/r1.release", "--heartbeat-timeout", "400"])
        #expect(second.suffix(4) == ["--release-log", "/logs/r2.release", "--heartbeat-timeout", "400"])
        #expect(!first.contains { $0.contains(Agent.vmPlaceholder) })
        #expect(first.contains("10.99.0.2:7110") && second.contains("10.99.0.1:7121"), "\(first) \(second)")
    }

    /// A pool's backups replay at normal priority unless the operator's node arguments say
    /// otherwise (a starved backup made its own primary's switchovers pause 150-250 ms).
    @Test func backupsReplayAtNormalPriorityUnlessTheOperatorSaysOtherwise() throws {
        let spec = VMSpec(name: "r1", memoryMiB: 256, append: "quiet", basePort: 7110)
        let plain = try Self.agent(nodeArguments: []).nodeArguments(spec, peer: "10.99.0.2")
        #expect(zip(plain, plain.dropFirst()).contains { $0 == ("--backup-priority", "normal") }, "\(plain)")
        let low = try Self.agent(nodeArguments: ["--backup-priority", "low"]).nodeArguments(spec, peer: "10.99.0.2")
        #expect(low.filter { $0 == "--backup-priority" }.count == 1 && low.suffix(2) == ["--backup-priority", "low"], "\(low)")
    }

    /// A node asks for a full copy of the disk while its image has no record with an instance:
    /// a new image, and one that a node opened (writing a record without an instance) whose first
    /// join was refused. Once the record has an instance, the resync is the record's to decide.
    @Test func aDiskWithoutARecordOfItsInstanceIsCopiedWhole() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let agent = Self.agent(nodeArguments: [], dataDirectory: directory.path)
        var spec = VMSpec(name: "r1", memoryMiB: 256, append: "quiet", basePort: 7110)
        spec.diskMiB = 4
        let image = directory.appendingPathComponent("r1.img").path
        func asksForFullCopy(refused: Bool = false) throws -> Bool {
            let arguments = try agent.nodeArguments(spec, peer: "10.99.0.2", fullResync: refused)
            #expect(arguments.contains(image))
            return zip(arguments, arguments.dropFirst()).contains { $0 == ("--resync", "full") }
        }
        #expect(try asksForFullCopy())   // new: the agent creates the image
        let blank = DiskRecord(vm: "r1", instance: [], sectorCount: 8192, generation: 0, bootID: "test")
        try Data(blank.encoded).write(to: URL(fileURLWithPath: image + ".lockstep"))
        #expect(try asksForFullCopy())   // opened by a node, never copied
        let copied = DiskRecord(vm: "r1", instance: [1, 2, 3, 4], sectorCount: 8192, generation: 3, bootID: "test")
        try Data(copied.encoded).write(to: URL(fileURLWithPath: image + ".lockstep"))
        #expect(try !asksForFullCopy())
        #expect(try asksForFullCopy(refused: true))   // the primary's record does not reach back to this disk's
    }
}
