import FaultInjection
import Foundation
import Testing

/// Both nodes of a VM give its guest one MAC address: a backup started with another `--mac` is
/// refused, saying which to give; with the same it joins, and after a failover the guest still
/// has its address.
@Suite(.serialized) struct NodeMACAddressTests {
    @Test func aBackupWithAnotherMACIsRefusedAndTheGuestKeepsItsOwnAcrossAFailover() throws {
        var options = Cluster.Options(lockstep: lockstepExecutable())
        options.arbiter = .file
        options.append = "console=ttyS0 quiet"
        let directory = temporaryDirectory("mac")
        let cluster = try Cluster(options: options, directory: directory)
        defer { cluster.stop(); removeTemporaryDirectory(directory) }
        let mac = "02:00:00:aa:bb:cc"
        cluster.nodes[0].extraArguments = ["--mac", mac]
        cluster.nodes[1].extraArguments = ["--mac", "02:00:00:aa:bb:cd"]
        try cluster.startArbiter()
        try cluster.nodes[0].start()
        try cluster.waitUntilLive(0, seconds: 60)
        let address = "cat /sys/class/net/eth0/address"
        #expect(ConsoleProbe.ask(port: cluster.consolePorts[0], command: address, expecting: mac, seconds: 10) != nil, "\(cluster.logs)")

        try cluster.nodes[1].start()
        #expect(cluster.nodes[1].waitForExit(seconds: 60) == 3, "\(cluster.logs)")
        #expect(cluster.nodes[1].log.contains("this node was started with --mac 02:00:00:aa:bb:cd")
                && cluster.nodes[1].log.contains("start this node with --mac \(mac)"), "\(cluster.nodes[1].log)")

        cluster.nodes[1].extraArguments = ["--mac", mac]
        try cluster.rejoin(1)
        cluster.nodes[0].kill()
        try cluster.waitUntilLive(1, seconds: 10)
        #expect(ConsoleProbe.ask(port: cluster.consolePorts[1], command: address, expecting: mac, seconds: 10) != nil, "\(cluster.logs)")
    }
}
