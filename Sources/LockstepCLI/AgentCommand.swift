import ArgumentParser
import Etcd
import Foundation
import Logging
import Pool
import PoolHTTP

/// `lockstep agent`: the pool's agent on this host (docs/pool.md).
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run this host's pool agent: register it in etcd, run the nodes the pool places here.",
        discussion: """
            One agent per host. It registers the host in etcd under a lease, runs a `lockstep node` \
            for every VM placed on the host (and stops those moved away), reports what each does, \
            and, when it is the pool's leader, places the VMs: a VM that loses a host gets another \
            at once, and its node there joins the survivor by live copy. Declare VMs with \
            `lockstep vm create`; see them with `lockstep status`. Runs until SIGINT or SIGTERM, \
            which stop its nodes. See docs/pool.md.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The etcd members' client URLs, comma-separated.", valueName: "http://host:port,..."))
    var etcd = "http://127.0.0.1:2379"

    @Option(name: .long, help: ArgumentHelp("This host's name in the pool (its nodes' --node-id).", valueName: "name"))
    var host: String

    @Option(name: .long, help: ArgumentHelp("The address this host's nodes listen on and its peers dial.", valueName: "ip"))
    var address: String

    @Option(name: .long, help: ArgumentHelp("Memory this host offers to guests, in MiB.", valueName: "MiB"))
    var memory = 4096

    @Option(name: .long, help: ArgumentHelp("Directory for this host's VM disks and node logs.", valueName: "path"))
    var data: String

    @Option(name: .customLong("key-file"), help: ArgumentHelp("The pool's shared key file (the same on every host).", valueName: "path"))
    var keyFile: String

    @Option(name: .long, help: ArgumentHelp("Seconds of silence after which etcd forgets this host (its lease).", valueName: "s"))
    var lease = 3

    @Option(name: .customLong("node-argument"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("An argument added to every node's command line (repeatable), e.g. --node-argument=--heartbeat-timeout --node-argument=400; {vm} in it is replaced by the VM's name (--node-argument=--release-log --node-argument=/var/log/{vm}.release).", valueName: "arg"))
    var nodeArguments: [String] = []

    @Option(name: .long, help: ArgumentHelp("Where to serve /metrics (Prometheus) and the status page: HOST:PORT, or none (default: the host's address, port 9870).", valueName: "host:port"))
    var http: String?

    @Option(name: .customLong("health-policy"), help: ArgumentHelp("on: while this agent leads, switch over a failing or slow primary with a backup in step, and suspect hosts whose VMs fail while others answer; off: only say what would be done.", valueName: "on|off"))
    var healthPolicy = "on"

    @Flag(name: .long, help: "Exit when the process that started this one exits (for test harnesses and supervisors).")
    var exitWithParent = false

    func validate() throws {
        do { _ = try EtcdEndpoint.list(etcd) } catch { throw ValidationError("--etcd: \(error)") }
        guard !host.isEmpty, !host.contains("/") else { throw ValidationError("--host must be a name without '/'") }
        guard memory > 0, lease >= 2 else { throw ValidationError("--memory must be positive and --lease at least 2 s") }
        guard healthPolicy == "on" || healthPolicy == "off" else { throw ValidationError("--health-policy must be on or off, not '\(healthPolicy)'") }
    }

    func run() throws {
        if exitWithParent { ParentWatch.start() }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let lockstep = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        var configuration = Agent.Configuration(host: HostRecord(name: host, address: address, memoryMiB: memory), etcdURLs: etcd,
                                                dataDirectory: data, lockstep: lockstep, keyFile: keyFile)
        configuration.leaseSeconds = lease
        configuration.nodeArguments = nodeArguments
        configuration.healthPolicy.enabled = healthPolicy == "on"
        let store = PoolStore(client: EtcdClient(endpoints: try EtcdEndpoint.list(etcd)))
        let name = host
        var logger = Logger(label: "agent")
        logger[metadataKey: "host"] = "\(name)"
        let agent = Agent(configuration: configuration, store: store, logger: logger)
        let task = Task { await agent.run() }
        let httpAddress = http ?? "\(address):9870"
        if httpAddress != "none" {
            guard let colon = httpAddress.lastIndex(of: ":"), let port = Int(httpAddress[httpAddress.index(after: colon)...]) else {
                throw ValidationError("--http must be HOST:PORT or none, not '\(httpAddress)'")
            }
            let host = String(httpAddress[..<colon])
            Self.httpTask = Task {
                do {
                    try await AgentHTTPServer.run(host: host, port: port, view: { agent.latestView }, log: { [logger] in logger.info("\($0)") })
                } catch {
                    logger.error("no metrics or status page: cannot serve on \(httpAddress): \(error)")
                }
            }
        }
        for signal in [SIGINT, SIGTERM] {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal)
            source.setEventHandler { task.cancel(); Self.httpTask?.cancel() }
            source.resume()
            Self.signalSources.append(source)
        }
        logger.info("starting (etcd \(etcd))")
        _ = waitFor { await task.value; return 0 }
    }

    nonisolated(unsafe) static var signalSources: [any DispatchSourceSignal] = []
    nonisolated(unsafe) static var httpTask: Task<Void, Never>?
}
