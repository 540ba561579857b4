import Arbitration
import Etcd
import ArgumentParser
import Dispatch
import HostIO
import LockstepSupport
import Machine
import Replay
import Replication
#if canImport(Glibc)
import Glibc
#endif

/// `lockstep node`: one host's share of a replicated VM (docs/replication.md).
struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one node of a fault-tolerant VM: primary or backup, decided at start.",
        discussion: """
            Start the same command on two hosts (with --listen and --peer swapped). The first node \
            to claim a VM the arbiter has never seen boots the guest and is the primary; a node \
            that finds the VM running joins its primary as the backup, receives the machine as a \
            snapshot, then executes the primary's log of inputs. When the primary dies (both lines \
            silent for the heartbeat timeout), the backup executes what it holds, wins the \
            arbiter and goes live: it opens its console port and accepts a new backup. The guest's \
            console is a TCP port (--console) on the live node only.

            --netdev gives the guest a network as QEMU's -netdev does (docs/networking.md): \
            `bridge,br=BRIDGE` (a new TAP on that bridge: the way a client's TCP connection \
            survives a failover, because the guest keeps its MAC address and the live node \
            announces it from its own host), `tap,ifname=NAME`, `user[,hostfwd=...]` (user-mode \
            networking: a failover keeps the service but not the connections), or `none` (the \
            default). The backend is checked at start and used only while this node is the \
            live primary; a node that loses the arbiter takes it down before anything else. \
            --mac gives the guest its MAC address (default QEMU's 52:54:00:12:34:56): give both \
            nodes the same one (a backup refuses a primary whose guest has another), and each VM \
            on a LAN its own.

            SIGUSR1 asks the live primary for a planned switchover: it stops the guest, waits until \
            the backup has executed and acknowledged everything, and hands over; the backup claims \
            the next generation and goes live at once.

            Exit status: the guest's exit code when it powers off; 2 when the node lost the \
            arbiter and stopped its VM; 3 when the peer refused this node or execution diverged; 4 \
            after a switchover handed the VM to the backup; 1 for errors at start.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The VM's name (both nodes and the arbiter must agree on it).", valueName: "name"))
    var vm: String

    @Option(name: .long, help: ArgumentHelp("This node's name (default: host name and process id).", valueName: "id"))
    var nodeID: String?

    @Option(name: .long, help: ArgumentHelp("File holding the VM's shared secret (the same on both nodes and the arbiter).", valueName: "path"))
    var keyFile: String

    @Option(name: .long, help: ArgumentHelp("Address of a line this node listens on while primary; give it twice, one per line.", valueName: "host:port"))
    var listen: [String] = []

    @Option(name: .long, help: ArgumentHelp("Address of a line of the other node; give it twice, one per line.", valueName: "host:port"))
    var peer: [String] = []

    @Option(name: .long, help: ArgumentHelp("The console port opened while this node is the live primary.", valueName: "host:port"))
    var console: String = "127.0.0.1:0"

    @Option(name: .long, help: ArgumentHelp("Built-in arbiter (`lockstep arbiter`) to ask.", valueName: "host:port"))
    var arbiter: String?

    @Option(name: .long, help: ArgumentHelp("Lock file on storage both hosts share, used as the arbiter instead.", valueName: "path"))
    var arbiterFile: String?

    @Option(name: .long, help: ArgumentHelp("etcd v3 cluster used as the arbiter instead: its members' client URLs, comma-separated (the VM's generation is /lockstep/vms/NAME/generation).", valueName: "http://host:port,..."))
    var etcd: String?

    @Option(name: .long, help: ArgumentHelp("Milliseconds between heartbeats on each line.", valueName: "ms"))
    var heartbeatInterval: Int = 50

    @Option(name: .long, help: ArgumentHelp("Milliseconds of silence on every line after which the peer is declared dead.", valueName: "ms"))
    var heartbeatTimeout: Int = 400

    @Flag(name: .long, help: "Exit when the process that started this one exits (for test harnesses and supervisors).")
    var exitWithParent = false

    @Option(name: .long, help: ArgumentHelp("Append a line per output written to this file, \"DECIDED_NS DONE_NS GENERATION NODE BYTES\" on the monotonic clock (for split-brain checks).", valueName: "path"))
    var releaseLog: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between statistics lines (log entries and bytes, guest MIPS) while a backup is attached.", valueName: "seconds"))
    var statisticsInterval: Double = 10

    @Option(name: .long, help: ArgumentHelp("The guest's network, as QEMU's -netdev: bridge,br=BRIDGE, tap,ifname=NAME, user[,hostfwd=...], or none.", valueName: "spec"))
    var netdev: String = "none"

    @Option(name: .long, help: ArgumentHelp("This node's copy of a disk of the VM: a raw image, with its record beside it in IMAGE.lockstep (docs/disks.md). Each node has its own copy; nothing is shared. Repeat it for more disks (at most \(Machine.maximumDiskCount)), in the same order on both nodes: the first is /dev/vda, the second /dev/vdb, and so on.", valueName: "image"))
    var disk: [String] = []

    @Option(name: .long, help: ArgumentHelp("How a joining backup's disks are brought up to date: auto (only what changed on each, when the records prove the rest equal; otherwise the backup is refused) or full (overwrite the backup's disks whole).", valueName: "auto|full"))
    var resync: String = "auto"

    @Option(name: .long, help: ArgumentHelp("When a guest's disk flush completes: primary (durable on the primary's disk; the backup holds the log to redo it) or both (durable on both nodes' disks: the guest waits for the backup).", valueName: "primary|both"))
    var diskSync: String = "primary"

    @Option(name: .long, help: ArgumentHelp("Most MiB per second a primary sends when it copies its memory and disks to a joining backup.", valueName: "MiB/s"))
    var syncRate: Double = 200

    @Option(name: .long, help: ArgumentHelp("The backup's replay priority: low (nice 19 while it keeps up, normal once it has been behind for 50 ms: the primary's threads and other work on the host come first) or normal (always).", valueName: "low|normal"))
    var backupPriority: String = "low"

    @Option(name: .long, help: ArgumentHelp("Keep this node's status here as JSON (role, replication lag, bytes per line, outputs held, go-lives and pauses, a live copy's progress), replaced atomically every 0.5 s and on every role change (docs/pool.md).", valueName: "path"))
    var statusFile: String?

    @OptionGroup
    var guest: GuestOptions

    func validate() throws {
        guard listen.count == 2, peer.count == 2 else {
            throw ValidationError("give --listen twice and --peer twice: one address per line (two independent lines)")
        }
        _ = try listenEndpoints
        _ = try peerEndpoints
        _ = try consoleEndpoint
        guard [arbiter != nil, arbiterFile != nil, etcd != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --arbiter HOST:PORT (the built-in arbiter), --arbiter-file PATH and --etcd URL[,URL...]")
        }
        _ = try arbiterEndpoint
        do { _ = try etcd.map(EtcdEndpoint.list) } catch { throw ValidationError("--etcd: \(error)") }
        do { _ = try NetdevConfiguration(parsing: netdev) } catch { throw ValidationError("\(error)") }
        guard resync == "auto" || resync == "full" else {
            throw ValidationError("--resync must be auto or full, not '\(resync)'")
        }
        guard syncRate > 0, syncRate.isFinite else { throw ValidationError("--sync-rate must be a positive number of MiB per second") }
        if resync == "full" && disk.isEmpty { throw ValidationError("--resync full needs --disk") }
        try DiskImageList.validate(disk)
        guard ["low", "normal"].contains(backupPriority) else {
            throw ValidationError("--backup-priority must be low or normal, not '\(backupPriority)'")
        }
        guard DiskSyncMode(rawValue: diskSync) != nil else {
            throw ValidationError("--disk-sync must be primary or both, not '\(diskSync)'")
        }
        guard heartbeatInterval > 0, heartbeatTimeout > heartbeatInterval else {
            throw ValidationError("--heartbeat-timeout must be longer than --heartbeat-interval")
        }
        try guest.validateBootDisk(disk.first)
    }

    /// --listen, parsed (port 0: any free port).
    var listenEndpoints: [Endpoint] { get throws { try listen.map { try Self.endpoint($0, flag: "--listen", allowsPortZero: true) } } }
    /// --peer, parsed.
    var peerEndpoints: [Endpoint] { get throws { try peer.map { try Self.endpoint($0, flag: "--peer", allowsPortZero: false) } } }
    /// --console, parsed (port 0: any free port).
    var consoleEndpoint: Endpoint { get throws { try Self.endpoint(console, flag: "--console", allowsPortZero: true) } }
    /// --arbiter, parsed.
    var arbiterEndpoint: Endpoint? { get throws { try arbiter.map { try Self.endpoint($0, flag: "--arbiter", allowsPortZero: false) } } }

    private static func endpoint(_ text: String, flag: String, allowsPortZero: Bool) throws -> Endpoint {
        do {
            return try Endpoint(parsing: text, allowsPortZero: allowsPortZero)
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
    }

    func run() throws {
        if exitWithParent { ParentWatch.start() }
        let key: [UInt8]
        do {
            key = try KeyFile.read(path: keyFile)
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        let id = nodeID ?? "\(hostName())-\(getpid())"
        var configuration = NodeConfiguration(
            vm: vm, nodeID: id, key: key, listen: try listenEndpoints, peers: try peerEndpoints, console: try consoleEndpoint,
            heartbeat: HeartbeatSettings(interval: Double(heartbeatInterval) / 1000, timeout: Double(heartbeatTimeout) / 1000))
        configuration.releaseLogPath = releaseLog
        configuration.resyncFull = resync == "full"
        configuration.diskSync = DiskSyncMode(rawValue: diskSync) ?? .primary
        configuration.diskSyncRate = syncRate * 1_048_576
        configuration.statisticsInterval = statisticsInterval
        configuration.statusFilePath = statusFile
        configuration.backupLowersPriority = backupPriority == "low"
        configuration.mac = try guest.macAddress
        configuration.engine = guest.engineOption.selected
        let arbiterBackend: any Arbiter
        if let arbiterFile {
            arbiterBackend = FileArbiter(path: arbiterFile)
        } else if let etcd {
            arbiterBackend = EtcdArbiter(client: EtcdClient(endpoints: (try? EtcdEndpoint.list(etcd)) ?? [], timeout: .seconds(2)))
        } else {
            do {
                arbiterBackend = try makeRemoteArbiter(try arbiterEndpoint!, key: key)
            } catch {
                printError("lockstep: \(error)")
                throw ExitCode(1)
            }
        }
        let network: (any NetworkBackend)?
        do {
            network = try makeNetworkBackend(try NetdevConfiguration(parsing: netdev))
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        defer { network?.close() }
        if network != nil { configuration.slice = LiveRunner.Settings.networkSlice }
        var mirroredDisks: [MirroredDisk] = []
        defer { for disk in mirroredDisks { disk.closeCleanly() } }
        for path in disk {
            do {
                mirroredDisks.append(try MirroredDisk(path: path, vm: vm))
            } catch {
                printError("lockstep: --disk \(path): \(error)")
                throw ExitCode(1)
            }
        }
        let node = Node(configuration: configuration, arbiter: arbiterBackend, network: network, disks: mirroredDisks)
        // SIGUSR1: a planned switchover to the backup (`lockstep vm switchover`, or by hand).
        signal(SIGUSR1, SIG_IGN)
        let switchoverSignal = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        switchoverSignal.setEventHandler { [node] in
            if !node.requestSwitchover() { printError("lockstep: SIGUSR1 (switchover) ignored: this node is not the live primary") }
        }
        switchoverSignal.resume()
        defer { switchoverSignal.cancel() }
        let outcome: NodeOutcome
        do {
            outcome = try node.run {
                // Only when this node boots the VM (a backup gets the running machine, kernel
                // included, from its primary): with --boot-from-disk, from this node's disk.
                let setup = try guest.linuxSetup(bootDisk: disk.first)
                let machine = try Machine(configuration: MachineConfiguration(memorySize: guest.memory << 20,
                                                                              entropySeed: UInt64.random(in: 0...UInt64.max),
                                                                              mac: try guest.macAddress),
                                          disks: mirroredDisks)
                try setup.prepare(machine)
                guest.engineOption.apply(to: machine)
                return machine
            }
        } catch {
            printError("lockstep: \(error)")
            throw ExitCode(1)
        }
        switch outcome {
        case .guestExited(let code):
            if code != 0 { throw ExitCode(code) }
        case .guestReset:
            printError("lockstep: the guest asked for a reset and this VM does not reboot guests; stopping")
        case .lostArbitration:
            throw ExitCode(2)
        case .refused(let reason), .diverged(let reason):
            printError("lockstep: \(reason)")
            throw ExitCode(3)
        case .handedOver(let count):
            printError("lockstep: switched over to the backup at instruction \(count); start this node again to join it as its backup")
            throw ExitCode(4)
        }
    }
}

func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The built-in arbiter's client (the same shared key as the nodes).
func makeRemoteArbiter(_ endpoint: Endpoint, key: [UInt8]) throws -> any Arbiter {
    RemoteArbiter(host: endpoint.host, port: endpoint.port, key: try SharedKey(bytes: key))
}
