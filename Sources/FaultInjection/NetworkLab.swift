import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Two hosts, an arbiter and a client in network namespaces on this machine, wired as a real
/// deployment is: a switch with the guests' LAN and a management network, and two direct lines
/// between the hosts. It drives iproute2 (`ip`) and needs root (see ``isAvailable``).
///
/// The topology (`<p>` is the lab's ``prefix``; every namespace is `<p>-<name>`):
///
/// ```
///  <p>-cl (client)               <p>-sw (switch)               <p>-arb (arbiter)
///  lan0 10.0.0.100/24 ------ cl-lan                  arb-mgmt ------ mgmt0 10.99.0.10/24
///                            [ bridge lan ]      [ bridge mgmt ]
///                            a-lan    b-lan      a-mgmt   b-mgmt
///                              |        |          |        |
///           +------------------+        |          |        |
///           |     +---------------------|----------+        |
///           |     |                     |                   |
///  <p>-a    |     |                     |   <p>-b           |
///  lan0 ----+     |                     +-- lan0            |
///  mgmt0 ---------+ 10.99.0.1/24            mgmt0 ----------+ 10.99.0.2/24
///  [ br0 ] = lan0 + the guest's TAP         [ br0 ] = lan0 + the guest's TAP
///  line1 10.98.1.1/30 ---------------------- line1 10.98.1.2/30
///  line2 10.98.2.1/30 ---------------------- line2 10.98.2.2/30
/// ```
///
/// - Each host's `br0` bridges its LAN port `lan0` (a veth to the switch's `lan` bridge) and, once
///   `lockstep node --netdev bridge,br=br0` runs there, the guest's TAP. The host itself has no
///   LAN address; the guest is 10.0.0.10/24 (kernel argument
///   ``NetworkLabConfiguration/guestKernelArgument``).
/// - `mgmt0` joins the switch's `mgmt` bridge: the hosts reach each other and the arbiter there.
/// - `line1` and `line2` are direct veth pairs between the hosts (the replication lines).
/// - Loopback is up everywhere. Nothing is created in this process's own namespace: veths are
///   made with both ends in lab namespaces, so deleting the namespaces deletes everything.
///
/// Faults: ``cutLine(_:mode:)``, ``partition(mode:)``, ``heal()``, ``cutLAN(_:)``,
/// ``cutManagement(_:)`` and their restores. Processes: ``spawn(in:name:executable:arguments:directory:)``
/// (a ``NodeProcess`` under `ip netns exec`), ``run(in:_:_:timeout:)`` for short commands.
///
/// ``teardown()`` (also run by `deinit`) kills the lab's processes and deletes its namespaces.
/// Every namespace name carries the creating process's id, and a new lab first removes the
/// namespaces of labs whose process is dead (``removeStaleLabs()``), so a crashed test run leaves
/// nothing behind for long.
public final class NetworkLab: @unchecked Sendable {
    /// The start of every lab's namespace names.
    public static let commonPrefix = "lsl"

    /// Where `ip` is (nil: not installed).
    public static let ipExecutable: String? = ShortCommand.find("ip")

    /// Why labs cannot be made here (nil: they can): not root, no `ip`, or `ip netns add` fails
    /// (a container without CAP_SYS_ADMIN). Tried once per process.
    public static let unavailableReason: String? = {
        guard geteuid() == 0 else { return "not running as root" }
        guard let ip = ipExecutable else { return "`ip` not found" }
        let probe = NetworkLabConfiguration.newPrefix() + "-" + LabNamespace.switch.rawValue
        do {
            let added = try ShortCommand.run(ip, ["netns", "add", probe], timeout: 10)
            guard added.succeeded else { return "`ip netns add` failed: \(added)" }
            _ = try? ShortCommand.run(ip, ["netns", "del", probe], timeout: 10)
            return nil
        } catch {
            return "\(error)"
        }
    }()

    /// True when labs can be made here: for `@Test(.enabled(if: NetworkLab.isAvailable))`.
    public static var isAvailable: Bool { unavailableReason == nil }

    /// A MAC address that no interface has: a silent cut sends the line's traffic there.
    static let nowhere = "02:6c:73:6c:00:01"

    public let configuration: NetworkLabConfiguration
    /// The lab's namespaces and processes.
    private let namespaces: LabNamespaces

    /// The start of every namespace name of this lab.
    public var prefix: String { configuration.prefix }

    /// Builds the lab (first removing the leftovers of labs whose process died). On failure,
    /// whatever was made is removed again.
    public init(configuration: NetworkLabConfiguration = NetworkLabConfiguration()) throws(NetworkLabError) {
        self.configuration = configuration
        try configuration.validate()
        namespaces = try LabNamespaces(prefix: configuration.prefix)
        do {
            try build()
        } catch {
            teardown()
            throw error
        }
    }

    /// The full name of `namespace` (`<prefix>-sw`, ...).
    public func name(_ namespace: LabNamespace) -> String { namespaces.name(namespace.rawValue) }

    /// Every namespace this lab has made (and not yet deleted).
    public var namespaceNames: [String] { namespaces.names }

    // MARK: Running things in the lab

    /// Runs `ip -n <namespace> ARGUMENTS...`; throws when it fails.
    @discardableResult
    public func ip(_ namespace: LabNamespace, _ arguments: String...) throws(NetworkLabError) -> CommandOutput {
        try ip(namespace, arguments)
    }

    /// Runs `ip -n <namespace> ARGUMENTS...`; throws when it fails.
    @discardableResult
    public func ip(_ namespace: LabNamespace, _ arguments: [String]) throws(NetworkLabError) -> CommandOutput {
        try namespaces.ip(namespace.rawValue, arguments)
    }

    /// Runs a short command in `namespace` to its end (killed after `timeout` seconds) and returns
    /// its status and output; a non-zero status is not an error here. For long-running processes,
    /// use ``spawn(in:name:executable:arguments:directory:)``.
    public func run(in namespace: LabNamespace, _ executable: String, _ arguments: [String] = [],
                    timeout: Double = 10) throws(NetworkLabError) -> CommandOutput {
        try namespaces.run(in: namespace.rawValue, executable, arguments, timeout: timeout)
    }

    /// Whether one ping from `namespace` to `address` is answered within `seconds` (iputils'
    /// `ping -c1 -W<seconds>`).
    public func ping(from namespace: LabNamespace, _ address: String, seconds: Int = 1) throws(NetworkLabError) -> Bool {
        guard let ping = ShortCommand.find("ping") else {
            throw .unavailable("`ping` not found: install iputils-ping (scripts/install-deps.sh does)")
        }
        return try run(in: namespace, ping, ["-c1", "-W\(seconds)", "-n", "-q", address], timeout: Double(seconds) + 10).succeeded
    }

    /// Whether `address` answers a ping from `namespace` within `seconds`: pings of one second
    /// each, again until one is answered. For what must be reachable: a single ping of a bridge
    /// just made, on a loaded machine, can go unanswered (ARP, the bridge port coming up).
    public func reachable(from namespace: LabNamespace, _ address: String, within seconds: Double = 10) throws(NetworkLabError) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        repeat {
            if try ping(from: namespace, address) { return true }
        } while Date() < deadline
        return false
    }

    /// A process that runs in `namespace` when started (`ip netns exec`), its standard error in
    /// `directory/<name>-<incarnation>.log`. Not started yet; ``teardown()`` kills it.
    public func process(in namespace: LabNamespace, name: String, executable: String, arguments: [String],
                        directory: URL) throws(NetworkLabError) -> NodeProcess {
        try namespaces.process(in: namespace.rawValue, name: name, executable: executable, arguments: arguments, directory: directory)
    }

    /// Starts a process in `namespace` (see ``process(in:name:executable:arguments:directory:)``).
    public func spawn(in namespace: LabNamespace, name: String, executable: String, arguments: [String],
                      directory: URL) throws -> NodeProcess {
        let process = try self.process(in: namespace, name: name, executable: executable, arguments: arguments, directory: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try process.start()
        return process
    }

    // MARK: Faults

    /// Cuts line `line` (1 or 2) in both directions (see ``LineCut``); ``restoreLine(_:)`` mends it.
    public func cutLine(_ line: Int, mode: LineCut = .silent) throws(NetworkLabError) {
        let interface = try lineInterface(line)
        for host in LabHost.allCases {
            switch mode {
            case .silent:
                try ip(host.namespace, "neigh", "replace", configuration.lineAddress(line, host.peer), "lladdr", Self.nowhere,
                       "dev", interface, "nud", "permanent")
            case .linkDown:
                try ip(host.namespace, "link", "set", interface, "down")
            }
        }
    }

    /// Mends line `line` however it was cut (and does nothing to a line that was not).
    public func restoreLine(_ line: Int) throws(NetworkLabError) {
        let interface = try lineInterface(line)
        for host in LabHost.allCases {
            try ip(host.namespace, "link", "set", interface, "up")
            let neighbour = try ip(host.namespace, "neigh", "show", configuration.lineAddress(line, host.peer), "dev", interface)
            if neighbour.standardOutput.contains(Self.nowhere) {
                try ip(host.namespace, "neigh", "del", configuration.lineAddress(line, host.peer), "dev", interface)
            }
        }
    }

    /// Cuts every line: the hosts can reach each other only over the management network.
    public func partition(mode: LineCut = .silent) throws(NetworkLabError) {
        for line in 1...configuration.lineAddresses.count { try cutLine(line, mode: mode) }
    }

    /// Mends every line.
    public func heal() throws(NetworkLabError) {
        for line in 1...configuration.lineAddresses.count { try restoreLine(line) }
    }

    /// Sets the switch port of `host`'s LAN uplink down: the host's `lan0` loses carrier and its
    /// `br0` (and the guest on it) is cut off from the LAN and the client, as with a pulled cable.
    public func cutLAN(_ host: LabHost) throws(NetworkLabError) {
        try ip(.switch, "link", "set", "\(host)-lan", "down")
    }

    /// Sets the switch port of `host`'s LAN uplink up again.
    public func restoreLAN(_ host: LabHost) throws(NetworkLabError) {
        try ip(.switch, "link", "set", "\(host)-lan", "up")
    }

    /// Sets the switch port of `host`'s management link down: the host loses the arbiter and the
    /// other host's management address. Its own address and routes stay; packets go nowhere.
    public func cutManagement(_ host: LabHost) throws(NetworkLabError) {
        try ip(.switch, "link", "set", "\(host)-mgmt", "down")
    }

    /// Sets the switch port of `host`'s management link up again.
    public func restoreManagement(_ host: LabHost) throws(NetworkLabError) {
        try ip(.switch, "link", "set", "\(host)-mgmt", "up")
    }

    // MARK: Cleaning up

    /// Kills the lab's processes and deletes its namespaces (and with them every interface and
    /// bridge it made). Idempotent, and safe from another thread while the lab is in use (the
    /// teardown on SIGINT or SIGTERM does that): the processes cannot be started again
    /// (``NodeProcess/retire()``), and every later use of the lab throws ``NetworkLabError/tornDown(prefix:)``.
    /// Returns the namespaces that could not be deleted (none when all went well).
    @discardableResult
    public func teardown() -> [String] {
        namespaces.teardown()
    }

    /// Deletes the namespaces of labs whose creating process is gone (named
    /// `lsl<hex>p<pid>-<suffix>` with a dead pid); returns their names. Never touches another
    /// namespace. Every new lab does this first.
    @discardableResult
    public static func removeStaleLabs() -> [String] {
        guard let ip = ipExecutable else { return [] }
        var removed: [String] = []
        for name in namespaceNames() {
            guard let owner = LabName.owner(of: name), owner != getpid(), !processExists(owner) else { continue }
            if (try? ShortCommand.run(ip, ["netns", "del", name], timeout: 10))?.succeeded == true { removed.append(name) }
        }
        return removed
    }

    /// The named network namespaces (`ip netns list`) whose names start with `prefix`.
    public static func namespaceNames(withPrefix prefix: String = commonPrefix) -> [String] {
        guard let ip = ipExecutable, let output = try? ShortCommand.run(ip, ["netns", "list"], timeout: 10), output.succeeded else {
            return []
        }
        return output.standardOutput.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first.map(String.init)
        }.filter { $0.hasPrefix(prefix) }.sorted()
    }

    // MARK: Building

    private func build() throws(NetworkLabError) {
        for namespace in LabNamespace.allCases { try namespaces.add(namespace.rawValue) }
        for bridge in ["lan", "mgmt"] {
            try ip(.switch, "link", "add", bridge, "type", "bridge")
            try ip(.switch, "link", "set", bridge, "up")
        }
        for host in LabHost.allCases {
            let namespace = host.namespace
            try ip(namespace, "link", "add", configuration.hostBridge, "type", "bridge")
            try ip(namespace, "link", "set", configuration.hostBridge, "up")
            try connectToSwitch(namespace, interface: "lan0", port: "\(host)-lan", bridge: "lan")
            try ip(namespace, "link", "set", "lan0", "master", configuration.hostBridge)
            try ip(namespace, "link", "set", "lan0", "up")
            try connectToSwitch(namespace, interface: "mgmt0", port: "\(host)-mgmt", bridge: "mgmt")
            try ip(namespace, "addr", "add", configuration.managementAddresses[host.rawValue], "dev", "mgmt0")
            try ip(namespace, "link", "set", "mgmt0", "up")
        }
        for (index, addresses) in configuration.lineAddresses.enumerated() {
            let interface = "line\(index + 1)"
            try ip(.hostA, "link", "add", interface, "type", "veth", "peer", "name", interface, "netns", name(.hostB))
            for host in LabHost.allCases {
                try ip(host.namespace, "addr", "add", addresses[host.rawValue], "dev", interface)
                try ip(host.namespace, "link", "set", interface, "up")
            }
        }
        try connectToSwitch(.arbiter, interface: "mgmt0", port: "arb-mgmt", bridge: "mgmt")
        try ip(.arbiter, "addr", "add", configuration.arbiterAddress, "dev", "mgmt0")
        try ip(.arbiter, "link", "set", "mgmt0", "up")
        try connectToSwitch(.client, interface: "lan0", port: "cl-lan", bridge: "lan")
        try ip(.client, "addr", "add", configuration.clientAddress, "dev", "lan0")
        try ip(.client, "link", "set", "lan0", "up")
    }

    /// A veth from `interface` in `namespace` to `port` in the switch, which joins `bridge` and is up.
    private func connectToSwitch(_ namespace: LabNamespace, interface: String, port: String, bridge: String) throws(NetworkLabError) {
        try ip(namespace, "link", "add", interface, "type", "veth", "peer", "name", port, "netns", name(.switch))
        try ip(.switch, "link", "set", port, "master", bridge)
        try ip(.switch, "link", "set", port, "up")
    }

    private func lineInterface(_ line: Int) throws(NetworkLabError) -> String {
        guard (1...configuration.lineAddresses.count).contains(line) else {
            throw .invalidConfiguration("there is no line \(line): lines are numbered 1 to \(configuration.lineAddresses.count)")
        }
        return "line\(line)"
    }

    private static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
