import FaultInjection
import Foundation
import Testing

/// The network-namespace lab: what it connects, what each fault cuts, and that nothing is left
/// behind, even by a test that fails half-way. Needs root and iproute2 (skipped otherwise).
@Suite(.serialized, .enabled(if: NetworkLab.isAvailable)) struct NetworkLabTests {
    struct Thrown: Error {}

    /// Everything whose name starts with `prefix`: namespaces, and links in this namespace.
    func leftovers(_ prefix: String) throws -> [String] {
        let links = Process()
        links.executableURL = URL(fileURLWithPath: try #require(NetworkLab.ipExecutable))
        links.arguments = ["-o", "link", "show"]
        let pipe = Pipe()
        links.standardOutput = pipe
        try links.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        links.waitUntilExit()
        return NetworkLab.namespaceNames(withPrefix: prefix) + text.split(separator: "\n").map(String.init).filter { $0.contains(prefix) }
    }

    @Test func theTopologyConnectsWhatItShould() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let c = lab.configuration
        #expect(lab.namespaceNames == ["sw", "a", "b", "arb", "cl"].map { "\(lab.prefix)-\($0)" })
        #expect(Set(NetworkLab.namespaceNames(withPrefix: lab.prefix)) == Set(lab.namespaceNames))
        // The lines, both ways.
        for line in 1...2 {
            #expect(try lab.reachable(from: .hostA, c.lineAddress(line, .b)), "line \(line) a -> b")
            #expect(try lab.reachable(from: .hostB, c.lineAddress(line, .a)), "line \(line) b -> a")
        }
        // The management network: hosts and arbiter.
        #expect(try lab.reachable(from: .hostA, c.arbiterManagementAddress))
        #expect(try lab.reachable(from: .hostB, c.arbiterManagementAddress))
        #expect(try lab.reachable(from: .arbiter, c.managementAddress(.a)))
        #expect(try lab.reachable(from: .hostA, c.managementAddress(.b)))
        // The LAN reaches host a's br0: a temporary address there answers the client.
        try lab.ip(.hostA, "addr", "add", "10.0.0.1/24", "dev", "br0")
        #expect(try lab.reachable(from: .client, "10.0.0.1"))
        try lab.ip(.hostA, "addr", "del", "10.0.0.1/24", "dev", "br0")
        #expect(try !lab.ping(from: .client, "10.0.0.1"))
        // The networks are apart: the client has no route to management or the lines.
        #expect(try !lab.ping(from: .client, c.arbiterManagementAddress))
        #expect(try !lab.ping(from: .client, c.lineAddress(1, .a)))
        // The interfaces are where the picture puts them.
        let hostLinks = try lab.ip(.hostA, "-o", "link", "show").standardOutput
        for name in ["lo", "br0", "lan0", "mgmt0", "line1", "line2"] { #expect(hostLinks.contains(" \(name)"), "\(name) in \(hostLinks)") }
        #expect(try lab.ip(.hostA, "-o", "link", "show", "lan0").standardOutput.contains("master br0"))
        let switchLinks = try lab.ip(.switch, "-o", "link", "show").standardOutput
        for port in ["a-lan", "b-lan", "cl-lan"] { #expect(try lab.ip(.switch, "-o", "link", "show", port).standardOutput.contains("master lan"), "\(switchLinks)") }
        for port in ["a-mgmt", "b-mgmt", "arb-mgmt"] { #expect(try lab.ip(.switch, "-o", "link", "show", port).standardOutput.contains("master mgmt")) }
        #expect(c.guestKernelArgument == "ip=10.0.0.10::10.0.0.1:255.255.255.0::eth0:off")
    }

    @Test(arguments: LineCut.allCases)
    func cuttingOneLineLeavesTheOther(mode: LineCut) throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let c = lab.configuration
        try lab.cutLine(1, mode: mode)
        #expect(try !lab.ping(from: .hostA, c.lineAddress(1, .b)))
        #expect(try !lab.ping(from: .hostB, c.lineAddress(1, .a)))
        #expect(try lab.reachable(from: .hostA, c.lineAddress(2, .b)))
        #expect(try lab.reachable(from: .hostB, c.lineAddress(2, .a)))
        try lab.restoreLine(1)
        #expect(try lab.reachable(from: .hostA, c.lineAddress(1, .b)))
        #expect(try lab.reachable(from: .hostB, c.lineAddress(1, .a)))
        #expect(throws: NetworkLabError.self) { try lab.cutLine(3) }
    }

    @Test func aPartitionCutsBothLinesAndHealRestoresThem() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let c = lab.configuration
        try lab.partition()
        #expect(try !lab.ping(from: .hostA, c.lineAddress(1, .b)))
        #expect(try !lab.ping(from: .hostA, c.lineAddress(2, .b)))
        // The management network is not a line: the arbiter is still reachable.
        #expect(try lab.reachable(from: .hostA, c.arbiterManagementAddress))
        #expect(try lab.reachable(from: .hostB, c.arbiterManagementAddress))
        try lab.heal()
        #expect(try lab.reachable(from: .hostA, c.lineAddress(1, .b)))
        #expect(try lab.reachable(from: .hostB, c.lineAddress(2, .a)))
    }

    @Test func cuttingTheLANIsolatesTheHostsBridgeFromTheClient() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        try lab.ip(.hostA, "addr", "add", "10.0.0.1/24", "dev", "br0")
        try lab.ip(.hostB, "addr", "add", "10.0.0.2/24", "dev", "br0")
        #expect(try lab.reachable(from: .client, "10.0.0.1"))
        try lab.cutLAN(.a)
        #expect(try !lab.ping(from: .client, "10.0.0.1"))
        #expect(try lab.reachable(from: .client, "10.0.0.2"))
        try lab.restoreLAN(.a)
        #expect(try lab.reachable(from: .client, "10.0.0.1"))
    }

    @Test func cuttingManagementIsolatesTheHostFromTheArbiter() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let c = lab.configuration
        try lab.cutManagement(.a)
        #expect(try !lab.ping(from: .hostA, c.arbiterManagementAddress))
        #expect(try lab.reachable(from: .hostB, c.arbiterManagementAddress))
        #expect(try lab.reachable(from: .hostA, c.lineAddress(1, .b)))
        try lab.restoreManagement(.a)
        #expect(try lab.reachable(from: .hostA, c.arbiterManagementAddress))
    }

    @Test func aSpawnedProcessRunsInItsNamespaceAndDiesWithTheLab() throws {
        let lab = try NetworkLab()
        let prefix = lab.prefix
        let directory = temporaryDirectory("netlab")
        defer { lab.teardown(); removeTemporaryDirectory(directory) }
        let process = try lab.spawn(in: .hostB, name: "probe", executable: "/bin/sh",
                                    arguments: ["-c", "ip -4 -o addr show dev line1 >&2; echo ready >&2; exec sleep 60"],
                                    directory: directory)
        try process.waitForLog("ready", seconds: 10)
        #expect(process.log.contains("10.98.1.2/30"), "\(process.log)")
        #expect(process.isRunning)
        #expect(process.namespace == "\(prefix)-b")
        // `ip netns exec` became the command: the process id is the shell's (now sleep's) own.
        // ("ready" is written just before the exec, which a loaded machine may not have run yet.)
        let pid = try #require(process.processIdentifier)
        var command = ""
        let deadline = Date(timeIntervalSinceNow: 10)
        repeat {
            command = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
            if !command.hasPrefix("sleep") { usleep(20_000) }
        } while !command.hasPrefix("sleep") && Date() < deadline
        #expect(command.hasPrefix("sleep"), "\(command)")
        #expect(lab.teardown().isEmpty)
        #expect(!process.isRunning)
        #expect(try leftovers(prefix).isEmpty)
        #expect(throws: NetworkLabError.self) { try lab.ip(.hostA, "link") }
    }

    @Test func teardownLeavesNothingBehind() throws {
        let lab = try NetworkLab()
        let prefix = lab.prefix
        #expect(try leftovers(prefix).count == 5)
        #expect(lab.teardown().isEmpty)
        #expect(try leftovers(prefix).isEmpty)
        #expect(lab.teardown().isEmpty)   // idempotent
    }

    @Test func aTestThatThrowsHalfWayLeavesNothingBehind() throws {
        var prefix = ""
        func failingTest() throws {
            let lab = try NetworkLab()
            prefix = lab.prefix
            try lab.cutLine(1)
            throw Thrown()
        }
        #expect(throws: Thrown.self) { try failingTest() }
        #expect(!prefix.isEmpty)
        #expect(try leftovers(prefix).isEmpty)
    }

    @Test func theLeftoversOfADeadProcessAreRemovedAndNothingElse() throws {
        let ip = try #require(NetworkLab.ipExecutable)
        // A process id that is dead now.
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        let stale = ["lslbeefp\(dead)-sw", "lslbeefp\(dead)-a"]
        let alive = "lslcafep\(getpid())-sw"     // a live process's lab
        let foreign = "lslbeefp\(dead)-other"     // not a lab's name
        func netns(_ arguments: String...) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ip)
            process.arguments = ["netns"] + arguments
            try process.run()
            process.waitUntilExit()
        }
        for name in stale + [alive, foreign] { try netns("add", name) }
        defer { for name in stale + [alive, foreign] { try? netns("del", name) } }
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let names = NetworkLab.namespaceNames()
        for name in stale { #expect(!names.contains(name)) }
        #expect(names.contains(alive))
        #expect(names.contains(foreign))
    }

    @Test func invalidConfigurationsAreRefused() {
        var configuration = NetworkLabConfiguration()
        configuration.hostBridge = "a-bridge-name-too-long"
        #expect(throws: NetworkLabError.self) { _ = try NetworkLab(configuration: configuration) }
        configuration = NetworkLabConfiguration()
        configuration.prefix = "Bad-Prefix"
        #expect(throws: NetworkLabError.self) { _ = try NetworkLab(configuration: configuration) }
    }
}
