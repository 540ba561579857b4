import ArgumentParser
import Etcd
import Foundation
import Machine
import Pool

/// Runs a pool request and exits with status 1 and its message if it fails.
func runPoolRequest(_ command: String, _ body: @escaping @Sendable () async throws(PoolError) -> Void) throws {
    let status = waitFor {
        do throws(PoolError) {
            try await body()
            return 0
        } catch {
            printError("lockstep \(command): \(error)")
            return 1
        }
    }
    if status != 0 { throw ExitCode(status) }
}

/// `lockstep vm`: declare, list, show and delete the pool's VMs in etcd (docs/pool.md).
struct VMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm",
        abstract: "Declare, list, show and delete the pool's VMs (the agents run them).",
        subcommands: [Create.self, List.self, Show.self, Delete.self, Switchover.self, Move.self]
    )

    struct EtcdOption: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("The etcd members' client URLs, comma-separated.", valueName: "http://host:port,..."))
        var etcd = "http://127.0.0.1:2379"

        func store() throws -> PoolStore {
            do { return PoolStore(client: EtcdClient(endpoints: try EtcdEndpoint.list(etcd))) } catch {
                throw ValidationError("--etcd: \(error)")
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare a VM; the pool places and starts it.")
        @OptionGroup var options: EtcdOption
        @Argument(help: "The VM's name.") var name: String
        @Option(help: ArgumentHelp("Guest memory in MiB.", valueName: "MiB")) var memory = 256
        @Option(help: ArgumentHelp("A mirrored disk on each host: a size in MiB (a new ext4 disk, mounted on /data with lockstep.data=/dev/vda), or a raw image to start from (read once, by the agent of the VM's first primary; the other host gets it by live copy).", valueName: "MiB|image"))
        var disk: String?
        @Option(help: ArgumentHelp("The guest kernel's command line.", valueName: "line")) var append = "console=ttyS0 quiet lockstep.service=kv"
        @Option(help: ArgumentHelp("--netdev of the nodes (e.g. bridge,br=br0).", valueName: "spec")) var netdev: String?
        @Option(help: ArgumentHelp("The guest's MAC address (--mac of the nodes), e.g. \(MACAddress.example); default: a locally administered one (02:...) derived from the name, unique in the pool.", valueName: "mac"))
        var mac: String?
        @Option(help: ArgumentHelp("--disk-sync of the nodes: primary or both.", valueName: "mode")) var diskSync = "primary"
        @Option(help: ArgumentHelp("First of the VM's three ports on every host (0: the pool picks).", valueName: "port")) var basePort = 0
        @Option(help: ArgumentHelp("Probe the service from the primary's host: tcp://, http:// or redis://ADDRESS:PORT[/PATH], or console (the key-value guest on the VM's console).", valueName: "url"))
        var probe: String?
        @Option(help: ArgumentHelp("p99 probe latency above which the VM is degraded.", valueName: "ms")) var probeThreshold = 100.0
        @Flag(help: "Never switch this VM over for its health (the pool only says it would).") var noHealthSwitchover = false

        func validate() throws {
            _ = try mac.map(GuestOptions.parseMAC)
        }

        func run() throws {
            guard diskSync == "primary" || diskSync == "both" else { throw ValidationError("--disk-sync must be primary or both") }
            let store = try options.store()
            let (diskMiB, diskImage) = try Self.disk(disk)
            var spec = VMSpec(name: name, memoryMiB: memory, diskMiB: diskMiB, append: append, netdev: netdev, diskSync: diskSync, basePort: basePort)
            spec.diskImage = diskImage
            if let mac { spec.mac = MACAddress.format(try GuestOptions.parseMAC(mac)) }
            if noHealthSwitchover { spec.healthSwitchover = false }
            do { spec.probe = try probe.map { text throws(PoolError) in try ProbeSpec(parsing: text, thresholdMilliseconds: probeThreshold) } } catch {
                throw ValidationError("--probe: \(error)")
            }
            let finalSpec = spec
            try runPoolRequest("vm create") { () async throws(PoolError) in
                let created = try await store.create(finalSpec)
                print("VM '\(created.name)' declared: \(created.memoryMiB) MiB\(created.diskMiB.map { ", a \($0) MiB disk" } ?? ""), ports \(created.basePort)-\(created.basePort + 2) on its hosts, MAC \(created.mac ?? "?")")
            }
        }

        /// `--disk`: a size in MiB, or an existing raw image (its size, rounded up to MiB).
        static func disk(_ value: String?) throws -> (mebibytes: Int?, image: String?) {
            guard let value else { return (nil, nil) }
            if let mebibytes = Int(value) {
                guard mebibytes > 0 else { throw ValidationError("--disk \(value): a size must be at least 1 MiB") }
                return (mebibytes, nil)
            }
            let path = URL(fileURLWithPath: value).standardizedFileURL.path
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value else {
                throw ValidationError("--disk \(value): neither a size in MiB nor a readable image file")
            }
            guard size > 0 else { throw ValidationError("--disk \(value): the image is empty") }
            return (Int((size + (1 << 20) - 1) >> 20), path)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the VMs with where they run.")
        @OptionGroup var options: EtcdOption
        func run() throws {
            let store = try options.store()
            try runPoolRequest("vm list") { () async throws(PoolError) in
                print(PoolStatusTable.vms(try await store.vms()), terminator: "")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one VM: its declaration, placement, generation and nodes.")
        @OptionGroup var options: EtcdOption
        @Argument(help: "The VM's name.") var name: String
        func run() throws {
            let store = try options.store()
            let name = name
            try runPoolRequest("vm show") { () async throws(PoolError) in
                let state = try await store.vms()
                guard let text = PoolStatusTable.vm(name, in: state) else { throw .noSuchVM(name) }
                print(text, terminator: "")
            }
        }
    }

    struct Switchover: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the backup the primary, losing no output (a planned switchover).",
                                                        discussion: "The VM must be protected; one being re-protected is waited for first (within --timeout). Waits until the other host's node is the live primary.")
        @OptionGroup var options: EtcdOption
        @Argument(help: "The VM's name.") var name: String
        @Option(help: ArgumentHelp("Seconds to wait for the switchover.", valueName: "s")) var timeout = 30.0
        func run() throws {
            let store = try options.store()
            let name = name, timeout = timeout
            try runPoolRequest("vm switchover") { () async throws(PoolError) in
                let started = Date()
                let before = try await store.waitUntilProtected(name, until: started + timeout, for: "a switchover") { print($0) }
                guard let primary = before.primaries[name] else { throw .invalid("VM '\(name)' has no live primary now") }
                try await store.requestSwitchover(vm: name, from: primary)
                while Date().timeIntervalSince(started) < timeout {
                    try? await Task.sleep(for: .milliseconds(100))
                    let now = try await store.vms().nodes[name] ?? []
                    if let live = now.first(where: { ($0.role == .primary || $0.role == .primaryAlone) && $0.host != primary }) {
                        try await store.clearSwitchover(vm: name)
                        print("VM '\(name)': switched over from \(primary) to \(live.host) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s (the old primary joins as its backup)")
                        return
                    }
                }
                try await store.clearSwitchover(vm: name)
                throw .invalid("VM '\(name)': the switchover did not happen within \(timeout) s; see `lockstep vm show \(name)` and the nodes' logs")
            }
        }
    }

    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a protected VM's backup to another host (by live copy).",
                                                        discussion: "The VM is unprotected only while the new backup is copied. Waits until it is protected on the new host.")
        @OptionGroup var options: EtcdOption
        @Argument(help: "The VM's name.") var name: String
        @Option(name: .customLong("backup-to"), help: ArgumentHelp("The host for the new backup.", valueName: "host")) var target: String
        @Option(help: ArgumentHelp("Seconds to wait.", valueName: "s")) var timeout = 120.0
        func run() throws {
            let store = try options.store()
            let name = name, target = target, timeout = timeout
            try runPoolRequest("vm move") { () async throws(PoolError) in
                guard try await store.hosts().contains(where: { $0.name == target }) else {
                    throw .invalid("no host '\(target)' is alive in the pool (`lockstep status` lists them)")
                }
                let started = Date()
                let state = try await store.waitUntilProtected(name, until: started + timeout,
                                                               for: "a move (its last copy is never moved away)") { print($0) }
                guard state.primaries[name] != target else { throw .invalid("'\(target)' runs the VM's primary; choose another host, or switch over first") }
                try await store.requestMove(vm: name, backupTo: target)
                while Date().timeIntervalSince(started) < timeout {
                    try? await Task.sleep(for: .milliseconds(200))
                    let now = try await store.vms()
                    if now.protected.contains(name), now.nodes[name]?.contains(where: { $0.host == target && $0.role == .backup }) ?? false {
                        print("VM '\(name)': backup moved to \(target) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; protected")
                        return
                    }
                }
                try await store.clearMove(vm: name)
                throw .invalid("VM '\(name)': the backup did not reach \(target) within \(timeout) s (no room there? see `lockstep vm show \(name)`)")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a VM: its nodes are stopped (disk images stay on the hosts).")
        @OptionGroup var options: EtcdOption
        @Argument(help: "The VM's name.") var name: String
        func run() throws {
            let store = try options.store()
            let name = name
            try runPoolRequest("vm delete") { () async throws(PoolError) in
                try await store.delete(vm: name)
                print("VM '\(name)' deleted")
            }
        }
    }
}

/// `lockstep host`: planned maintenance of a host.
struct HostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "host", abstract: "Drain a host for maintenance, or undrain it.",
                                                    subcommands: [Drain.self, Undrain.self])

    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Empty a host: its primaries are switched over, then every backup on it moves to another host.",
            discussion: "No VM loses protection for longer than the copy of its new backup. Waits until no VM is placed on the host. The host takes no new VMs until `lockstep host undrain`.")
        @OptionGroup var options: VMCommand.EtcdOption
        @Argument(help: "The host.") var host: String
        @Option(help: ArgumentHelp("Seconds to wait.", valueName: "s")) var timeout = 300.0
        func run() throws {
            let store = try options.store()
            let host = host, timeout = timeout
            try runPoolRequest("host drain") { () async throws(PoolError) in
                try await store.setDrain(host, true)
                let started = Date()
                var last = ""
                while Date().timeIntervalSince(started) < timeout {
                    let state = try await store.vms()
                    let placed = state.specs.map(\.name).filter { state.placements[$0]?.hosts.contains(host) ?? false }.sorted()
                    if placed.isEmpty {
                        print("host \(host) drained in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: no VM runs there; `lockstep host undrain \(host)` when it is back")
                        return
                    }
                    let text = "still on \(host): " + placed.joined(separator: " ")
                    if text != last { print(text); last = text }
                    try? await Task.sleep(for: .milliseconds(250))
                }
                throw .invalid("host \(host) is not drained after \(timeout) s (a VM that is not protected cannot leave it; see `lockstep status`)")
            }
        }
    }

    struct Undrain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a drained host take VMs again.")
        @OptionGroup var options: VMCommand.EtcdOption
        @Argument(help: "The host.") var host: String
        func run() throws {
            let store = try options.store()
            let host = host
            try runPoolRequest("host undrain") { () async throws(PoolError) in
                try await store.setDrain(host, false)
                print("host \(host) takes VMs again")
            }
        }
    }
}

/// `lockstep status`: the pool's VMs and hosts in one table.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "The pool's VMs and hosts, from etcd.")
    @OptionGroup var options: VMCommand.EtcdOption
    func run() throws {
        let store = try options.store()
        try runPoolRequest("status") { () async throws(PoolError) in
            // One read: the tables agree with each other (one etcd revision).
            let pool = try await store.snapshot()
            let actions = PoolStatusTable.healthActions(pool.state)
            print(PoolStatusTable.vms(pool.state) + (actions.isEmpty ? "" : actions) + "\n"
                  + PoolStatusTable.hosts(pool.hosts, pool.state, drained: pool.drained, suspects: pool.suspects), terminator: "")
        }
    }
}
