import LockstepSupport
import Machine
@_spi(Simulation) @testable import Replication
import Testing

/// A backup started with one `--mac` refuses a primary whose guest has another, when the
/// primary's state arrives, saying which `--mac` to give; with the same address it follows.
@Suite struct BackupMACAddressTests {
    static let primaryMAC: [UInt8] = [0x02, 0x00, 0x00, 0xAA, 0xBB, 0xCC]

    static func primaryState() throws -> BackupLink.InitialState {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 1 << 20, mac: primaryMAC))
        return BackupLink.InitialState(snapshot: try machine.saveSnapshot(), generation: 1)
    }

    /// A backup started with `--mac mac` (nil: without it), following `channel`.
    static func role(_ channel: any BackupLogChannel, mac: [UInt8]?) -> BackupRole {
        var configuration = NodeConfiguration(vm: "kv", nodeID: "b", key: [1], listen: [], peers: [], console: Endpoint(host: "127.0.0.1", port: 0))
        configuration.mac = mac
        return BackupRole(configuration: configuration, link: channel, log: NodeLog(nodeID: "b", sink: { _ in }), clock: { 0 })
    }

    @Test func anotherAddressIsRefusedNamingTheMACToGive() throws {
        let scripted = BackupFencingTests.ScriptedChannel()
        scripted.state = try Self.primaryState()
        let role = Self.role(scripted, mac: VirtioNetwork.defaultMAC)
        let reason = BackupFencingTests.refusal(role.step())
        #expect(reason == "the primary's guest has MAC address 02:00:00:aa:bb:cc, this node was started with --mac 52:54:00:12:34:56: "
            + "both nodes of a VM give its guest the same MAC address; start this node with --mac 02:00:00:aa:bb:cc")
        // The state did not become this node's machine.
        #expect(role.machine == nil && reason != nil)
    }

    @Test func theSameAddressIsFollowed() throws {
        let scripted = BackupFencingTests.ScriptedChannel()
        scripted.state = try Self.primaryState()
        let role = Self.role(scripted, mac: Self.primaryMAC)
        let step = role.step()
        #expect(BackupFencingTests.refusal(step) == nil, "\(step)")
        #expect(role.machine?.network.mac == Self.primaryMAC)
    }

    /// A backup started without `--mac` takes the primary's address, whatever it is.
    @Test func withoutAnAddressThePrimarysIsTaken() throws {
        let scripted = BackupFencingTests.ScriptedChannel()
        scripted.state = try Self.primaryState()
        let role = Self.role(scripted, mac: nil)
        #expect(BackupFencingTests.refusal(role.step()) == nil)
        #expect(role.machine?.network.mac == Self.primaryMAC)
    }

    /// What is not a snapshot is the backup role's to refuse, as without the check.
    @Test func aStateThatIsNotASnapshotPassesToTheRole() {
        let scripted = BackupFencingTests.ScriptedChannel()
        scripted.state = BackupLink.InitialState(snapshot: [1, 2, 3], generation: 1)
        let reason = BackupFencingTests.refusal(Self.role(scripted, mac: Self.primaryMAC).step())
        #expect(reason != nil && reason?.contains("--mac") == false, "\(String(describing: reason))")
    }
}
