import Foundation
import HostIO
import Synchronization
import Testing

/// TapNetwork: a real TAP device (and bridge) of this host. Creating them needs CAP_NET_ADMIN, so
/// most tests run only as root (CI runs as root); the configuration errors need no privileges.
@Suite struct TapNetworkTests {
    static let isRoot = getuid() == 0
    private static let counter = Atomic<Int>(0)

    /// A name no other test (or run of this suite) uses at the same time: `prefix`, the process id,
    /// a letter per call.
    static func uniqueName(_ prefix: String) -> String {
        let number = counter.add(1, ordering: .relaxed).newValue
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return String("\(prefix)\(getpid())\(letters[number % 26])".prefix(15))
    }

    /// Runs `ip` with `arguments`; its exit status and what it printed.
    @discardableResult
    static func ip(_ arguments: String...) throws -> (status: Int32, output: String) {
        let candidates: [String] = ["/sbin/ip", "/usr/sbin/ip", "/bin/ip", "/usr/bin/ip"]
        let path = try #require(candidates.first { access($0, X_OK) == 0 }, "no `ip` command (Debian: iproute2)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// A file of the interface's sysfs directory, trimmed; nil if there is none.
    static func sysfs(_ interface: String, _ file: String) -> String? {
        (try? String(contentsOfFile: "/sys/class/net/\(interface)/\(file)", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func exists(_ interface: String) -> Bool {
        access("/sys/class/net/\(interface)", F_OK) == 0
    }

    /// Whether the interface is administratively up (IFF_UP in sysfs's flags).
    static func isUp(_ interface: String) -> Bool? {
        guard let text = sysfs(interface, "flags"), let flags = Int(text.dropFirst(2), radix: 16) else { return nil }
        return flags & 1 != 0
    }

    /// Waits (up to five seconds) until the interface is gone: closing a TAP device deletes it
    /// once no process holds its descriptor, and a process another test starts meanwhile may hold
    /// a copy for the moment between its fork and exec.
    static func waitUntilGone(_ interface: String) -> Bool {
        let deadline = Date(timeIntervalSinceNow: 5)
        while exists(interface) && Date() < deadline { usleep(10_000) }
        return !exists(interface)
    }

    /// Deletes the interface if a failed test left it behind.
    static func remove(_ interface: String) {
        if exists(interface) { _ = try? ip("link", "del", interface) }
    }

    @Test(.enabled(if: isRoot))
    func kernelAnswersTheGuestsARPAndTakeDownAndCloseRemoveTheTap() throws {
        let name = Self.uniqueName("lstt")
        defer { Self.remove(name) }
        // A /30 of 203.0.113.0/24 (TEST-NET-3) of this process's own, so that runs do not collide.
        // (Not TEST-NET-1: this kind of machine has 192.0.2.2/24 on its own eth0, and a guest
        // address equal to the host's own is an address conflict the kernel does not answer.)
        let base = 4 * (1 + Int(getpid() % 60))
        let hostAddress = "203.0.113.\(base + 1)", guestAddress = "203.0.113.\(base + 2)"

        let tap = try TapNetwork(interfaceName: name)
        defer { tap.close() }
        #expect(tap.summary == "tap \(name)")
        #expect(!tap.isPersistent)
        #expect(Self.exists(name))
        #expect(Self.isUp(name) == false)   // made DOWN: no traffic before start
        #expect(try Self.ip("addr", "add", "\(hostAddress)/30", "dev", name).status == 0)

        let waiter = FrameWaiter()
        try tap.start(onFrame: waiter.onFrame)
        #expect(Self.isUp(name) == true)
        let tapMAC = try #require(Self.sysfs(name, "address")).split(separator: ":").map { UInt8($0, radix: 16)! }

        // ARP is unreliable by nature (a request that reaches an interface in the instant it comes
        // up may go unanswered): ask again every second, for up to 10 s, as a resolver does.
        var answer: TestFrames.ARP?
        for _ in 0..<10 where answer == nil {
            tap.send(TestFrames.arpRequest(sender: guestAddress, target: hostAddress))
            answer = waiter.waitForFrame(from: tap, timeout: 1) { frame in
                TestFrames.arp(in: frame).flatMap { $0.isReply && $0.senderAddress == hostAddress ? $0 : nil }
            }
        }
        let reply = try #require(answer)
        #expect(reply.destinationMAC == TestFrames.guestMAC)
        #expect(reply.targetAddress == guestAddress)
        #expect(reply.senderMAC == tapMAC)

        tap.takeDown()
        #expect(Self.isUp(name) == false)
        #expect(Self.sysfs(name, "operstate") == "down")
        #expect(!tap.hasFrames)
        #expect(throws: NetworkBackendError.stopped(tap.summary)) { try tap.start(onFrame: {}) }

        tap.close()
        #expect(Self.waitUntilGone(name))
    }

    @Test(.enabled(if: isRoot))
    func bridgeBackendAttachesANewTapAndCloseRemovesIt() throws {
        let bridge = Self.uniqueName("lsbrt")
        let name = Self.uniqueName("lstb")
        #expect(try Self.ip("link", "add", bridge, "type", "bridge").status == 0)
        defer {
            Self.remove(name)
            _ = try? Self.ip("link", "del", bridge)
        }

        let configuration = try NetdevConfiguration(parsing: "bridge,br=\(bridge),ifname=\(name)")
        let backend = try #require(try makeNetworkBackend(configuration))
        defer { backend.close() }
        #expect(backend.summary == "tap \(name) on bridge \(bridge)")
        let master = try FileManager.default.destinationOfSymbolicLink(atPath: "/sys/class/net/\(name)/master")
        #expect(master.split(separator: "/").last.map(String.init) == bridge)
        #expect(Self.isUp(name) == false)

        try backend.start(onFrame: {})
        #expect(Self.isUp(name) == true)
        backend.close()
        #expect(Self.waitUntilGone(name))
        #expect(Self.exists(bridge))
    }

    @Test(.enabled(if: isRoot))
    func persistentTapIsUsedAndLeftInPlace() throws {
        let name = Self.uniqueName("lstp")
        #expect(try Self.ip("tuntap", "add", name, "mode", "tap").status == 0)
        defer { _ = try? Self.ip("tuntap", "del", name, "mode", "tap") }
        // Left UP by someone: the backend takes it DOWN until it starts.
        #expect(try Self.ip("link", "set", name, "up").status == 0)

        let tap = try TapNetwork(interfaceName: name)
        #expect(tap.isPersistent)
        #expect(tap.summary == "tap \(name) (persistent)")
        #expect(Self.isUp(name) == false)
        try tap.start(onFrame: {})
        #expect(Self.isUp(name) == true)
        tap.close()
        #expect(Self.exists(name))
        #expect(Self.isUp(name) == false)
    }

    @Test(.enabled(if: isRoot))
    func aTapAnotherBackendHoldsIsBusy() throws {
        let name = Self.uniqueName("lstu")
        defer { Self.remove(name) }
        let first = try TapNetwork(interfaceName: name)
        defer { first.close() }
        #expect(throws: NetworkBackendError.interfaceBusy(name)) { try TapNetwork(interfaceName: name) }
        #expect(NetworkBackendError.interfaceBusy(name).description.hasPrefix("--netdev: TAP device \(name) is in use"))
    }

    @Test func missingBridgeIsTheTypedError() throws {
        let bridge = Self.uniqueName("lsnobr")
        let configuration = try NetdevConfiguration(parsing: "bridge,br=\(bridge)")
        #expect(throws: NetworkBackendError.noSuchBridge(bridge)) { try makeNetworkBackend(configuration) }
        let message = NetworkBackendError.noSuchBridge(bridge).description
        #expect(message.hasPrefix("--netdev bridge,br=\(bridge): no such bridge \(bridge): create it with `ip link add \(bridge) type bridge"))
    }

    @Test func aBridgeThatIsNoBridgeAndATapThatIsNoTapAreTypedErrors() {
        #expect(throws: NetworkBackendError.notABridge("lo")) { try TapNetwork(interfaceName: "lstnobridge", bridge: "lo") }
        #expect(throws: NetworkBackendError.notATap("lo")) { try TapNetwork(interfaceName: "lo") }
        #expect(throws: NetworkBackendError.self) { try TapNetwork(interfaceName: "much-too-long-name") }
    }
}
