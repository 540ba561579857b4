import Foundation
import KVWorkload
import LockstepSupport

/// A replicated VM deployed in a ``NetworkLab`` as on real hosts: the arbiter in its namespace,
/// `lockstep node` A and B in the two host namespaces (lines over the lab's two line networks, the
/// arbiter over the management network, the guest's network a TAP on each host's `br0` bridge),
/// and a Redis client in the client namespace reaching the guest over the LAN at its own address.
/// The setup of the network failover tests, the soak's network faults and the main demo.
public final class LabCluster: @unchecked Sendable {
    public struct Options: Sendable {
        /// The `lockstep` executable.
        public var lockstep: String
        /// The `lockstep-kv` executable (the Redis client runs in the client namespace).
        public var lockstepKV: String
        public var memoryMiB = 256
        public var heartbeatIntervalMilliseconds = 50
        public var heartbeatTimeoutMilliseconds = 400
        /// The guest's service (`lockstep.service=`): redis or http.
        public var service = "redis"
        /// A mirrored disk of this many MiB per node (nil: none): node A's image is formatted
        /// ext4 (the guest mounts it on /data, and Redis keeps an fsync-always append-only file
        /// there), node B's is blank until its first join copies A's in full.
        public var diskMiB: Int?
        /// `--disk-sync` for both nodes.
        public var diskSync = "primary"
        /// `--sync-rate` for both nodes (MiB/s; nil: the default).
        public var syncRateMiB: Double?
        /// The guest (``LabGuest/debian(imageDirectory:)``: the mirrored disk is Debian's root
        /// file system; ``diskMiB`` and ``service`` do not apply).
        public var guest = LabGuest.standard
        /// Seconds to wait for the guest's Redis to answer after a boot (the first, or one from a
        /// disk after both nodes stopped).
        public var serviceSeconds: Double = 180
        /// Seconds to wait for a joining backup to be synchronised (a live copy of memory and
        /// disk), and for a node to start.
        public var joinSeconds: Double = 120
        /// Keep the disk images when the cluster stops (by default they are deleted with the
        /// other temporary files; the logs stay).
        public var keepsImages = false

        public init(lockstep: String, lockstepKV: String) {
            self.lockstep = lockstep
            self.lockstepKV = lockstepKV
        }

        /// The Debian guest of `imageDirectory` (guests/debian/build.sh's): 1024 MiB of memory
        /// and waits sized for its boot (about 17 billion instructions: 80 s with a release build
        /// on an idle core, much longer on a loaded one or with a debug build).
        public static func debian(lockstep: String, lockstepKV: String,
                                  imageDirectory: String = LabGuest.defaultDebianImageDirectory) -> Options {
            var options = Options(lockstep: lockstep, lockstepKV: lockstepKV)
            options.guest = .debian(imageDirectory: imageDirectory)
            options.memoryMiB = 1024
            options.serviceSeconds = 1800
            options.joinSeconds = 900
            return options
        }

        /// Whether the nodes have a mirrored disk.
        var hasDisk: Bool { diskMiB != nil || guest != .standard }
    }

    public let options: Options
    public let lab: NetworkLab
    public let directory: URL
    public let nodes: [NodeProcess]
    public let arbiterProcess: NodeProcess
    static let arbiterPort = 7000
    static let linePorts = [[7101, 7102], [7201, 7202]]
    static let redisPort = 6379
    /// Removes the disk images on SIGINT or SIGTERM (``SignalTeardown``); cancelled by ``stop()``.
    private var signalRegistration: SignalTeardown.Registration?

    /// The disk images of nodes A and B.
    public var imagePaths: [String] { ["A", "B"].map { directory.appendingPathComponent("\($0).img").path } }

    /// Makes the lab and the processes (none started).
    public init(options: Options, directory: URL) throws {
        signal(SIGPIPE, SIG_IGN)
        try options.guest.checkBuilt()
        self.options = options
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        lab = try NetworkLab()
        let configuration = lab.configuration
        let imageFiles = ["A", "B"].flatMap { name in ["img", "img.lockstep"].map { directory.appendingPathComponent("\(name).\($0)").path } }
        let registration = options.keepsImages ? nil : SignalTeardown.shared.register { for path in imageFiles { unlink(path) } }
        signalRegistration = registration
        let keyFile = directory.appendingPathComponent("key").path
        try Data("lockstep-lab-key-\(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: keyFile))
        let arbiterAddress = "\(configuration.arbiterManagementAddress):\(Self.arbiterPort)"
        arbiterProcess = try lab.process(in: .arbiter, name: "arbiter", executable: options.lockstep, arguments: [
            "arbiter", "--listen", arbiterAddress, "--state", directory.appendingPathComponent("arbiter.state").path,
            "--key-file", keyFile, "--exit-with-parent"], directory: directory)
        let append: String, boot: [String]
        do {
            (append, boot) = try Self.prepareGuest(options, configuration: configuration, directory: directory)
        } catch {
            for path in imageFiles { unlink(path) }
            registration?.cancel()
            throw error
        }
        var nodes: [NodeProcess] = []
        for host in [LabHost.a, .b] {
            let index = host.rawValue, other: LabHost = host == .a ? .b : .a
            var arguments = ["node", "--vm", "lab", "--node-id", index == 0 ? "A" : "B", "--key-file", keyFile,
                             "--exit-with-parent", "--arbiter", arbiterAddress]
            for line in 1...2 {
                arguments += ["--listen", "\(configuration.lineAddress(line, host)):\(Self.linePorts[index][line - 1])"]
            }
            for line in 1...2 {
                arguments += ["--peer", "\(configuration.lineAddress(line, other)):\(Self.linePorts[other.rawValue][line - 1])"]
            }
            arguments += ["--console", "127.0.0.1:0", "--netdev", "bridge,br=\(configuration.hostBridge)",
                          "--release-log", directory.appendingPathComponent("release.log").path,
                          "--heartbeat-interval", "\(options.heartbeatIntervalMilliseconds)",
                          "--heartbeat-timeout", "\(options.heartbeatTimeoutMilliseconds)",
                          "--append", append, "--memory", "\(options.memoryMiB)", "--statistics-interval", "5"] + boot
            if options.hasDisk {
                arguments += ["--disk", directory.appendingPathComponent(index == 0 ? "A.img" : "B.img").path, "--disk-sync", options.diskSync]
                if let rate = options.syncRateMiB { arguments += ["--sync-rate", "\(rate)"] }
            }
            nodes.append(try lab.process(in: host == .a ? .hostA : .hostB, name: index == 0 ? "A" : "B",
                                         executable: options.lockstep, arguments: arguments, directory: directory))
        }
        self.nodes = nodes
    }

    /// Makes the nodes' disk images for the guest; returns its kernel command line and the
    /// nodes' boot arguments.
    private static func prepareGuest(_ options: Options, configuration: NetworkLabConfiguration,
                                     directory: URL) throws -> (append: String, boot: [String]) {
        let a = directory.appendingPathComponent("A.img").path, b = directory.appendingPathComponent("B.img").path
        switch options.guest {
        case .standard:
            var append = "console=ttyS0 quiet lockstep.service=\(options.service) \(configuration.guestKernelArgument)"
            if let diskMiB = options.diskMiB {
                append += " lockstep.data=/dev/vda"
                try makeImage(diskMiB: diskMiB, at: a, formatted: true)
                try makeImage(diskMiB: diskMiB, at: b, formatted: false)
            }
            return (append, [])
        case .debian(let imageDirectory):
            // Debian's own command line (root=/dev/vda); the address is in the image's copy.
            let append = try String(contentsOfFile: imageDirectory + "/cmdline", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try DebianLabImage.prepare(source: imageDirectory + "/disk.img", destination: a,
                                       address: configuration.guestAddress, gateway: configuration.guestGateway)
            // B's copy is blank until its first join copies A's in full.
            let size = try FileManager.default.attributesOfItem(atPath: a)[.size] as? NSNumber
            try makeImage(bytes: size?.uint64Value ?? 0, at: b)
            return (append, ["--boot-from-disk"])
        }
    }

    /// The guest's service address, as the client sees it.
    public var serviceEndpoint: String { "\(lab.configuration.guestLANAddress):\(Self.redisPort)" }

    /// Starts the arbiter, node A (which boots the VM), waits for Redis to answer over the LAN,
    /// then starts node B (which joins as backup).
    public func start(redisTimeout: Double? = nil) throws {
        try startPrimary(redisTimeout: redisTimeout)
        try rejoin(1, resyncFull: options.hasDisk)
    }

    /// A raw image of `diskMiB` MiB, ext4 if `formatted` (Debian's mkfs.ext4, e2fsprogs).
    public static func makeImage(diskMiB: Int, at path: String, formatted: Bool) throws {
        try makeImage(bytes: UInt64(diskMiB) << 20, at: path)
        guard formatted else { return }
        guard let mkfs = ShortCommand.find("mkfs.ext4") else {
            throw FaultInjectionError.setup("mkfs.ext4 not found: install e2fsprogs")
        }
        let output = try ShortCommand.run(mkfs, ["-q", "-F", "-L", "lockstep-data", path], timeout: 60)
        guard output.succeeded else { throw FaultInjectionError.setup("mkfs.ext4 \(path): \(output)") }
    }

    /// A blank (sparse) raw image of `bytes` bytes.
    static func makeImage(bytes: UInt64, at path: String) throws {
        guard bytes > 0, FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else { throw FaultInjectionError.setup("cannot create \(path) of \(bytes) bytes") }
        try handle.truncate(atOffset: bytes)
        try handle.close()
    }

    /// SIGKILLs both nodes at once (a power cut of both hosts), then starts both again from
    /// their disks: the one whose disk is the newest boots the guest from it, the other joins.
    public func restartBoth(redisTimeout: Double? = nil) throws {
        for node in nodes { node.kill() }
        for node in nodes {
            _ = node.waitForExit(seconds: 10)
        }
        for node in nodes {
            // As after a power cut: no operator's `--resync full` (one given at the first join
            // is not repeated), so the node that joins gets the resync its disk's record allows.
            node.extraArguments = []
            try node.start()
        }
        let deadline = monotonicSeconds() + options.joinSeconds
        while nodes.livePrimary == nil {
            guard monotonicSeconds() < deadline else {
                throw FaultInjectionError.timeout("no node booted the VM from its disk after both restarted; logs:\n\(logs)")
            }
            usleep(100_000)
        }
        try waitForService(seconds: redisTimeout ?? options.serviceSeconds)
        let backup = 1 - nodes.livePrimary!
        do {
            try nodes[backup].waitForLog("backup of VM", seconds: options.joinSeconds)
        } catch {
            // Refused half-way, as ``rejoin(_:resyncFull:)`` says: start it again.
            guard nodes[backup].waitForExit(seconds: 5) != nil, nodes[backup].log.contains("restart the backup") else { throw error }
            lock.withLock { retriedJoins += 1 }
            try rejoin(backup)
        }
    }

    /// Starts the arbiter and node A (which boots the VM) and waits for Redis to answer over the
    /// LAN: the VM runs unprotected until ``rejoin(_:)`` starts node B.
    public func startPrimary(redisTimeout: Double? = nil) throws {
        try arbiterProcess.start()
        try arbiterProcess.waitForLog("listening on", seconds: 30)
        try nodes[0].start()
        try nodes[0].waitForLog("console on", seconds: 60)
        try waitForService(seconds: redisTimeout ?? options.serviceSeconds)
    }

    /// Restarts node `index` (after a kill); it joins the live primary as backup (with
    /// `--resync full` if asked: its disk is overwritten whole).
    ///
    /// A join that the primary cuts short because it declared the joining node lost (every line
    /// silent past the heartbeat timeout: on a loaded machine both nodes can be starved that
    /// long) ends with the node saying to restart it to join again; that is done, up to
    /// ``joinAttempts`` times in all, and counted in ``joinsRetried``.
    public func rejoin(_ index: Int, resyncFull: Bool = false) throws {
        for attempt in 1...Self.joinAttempts {
            nodes[index].extraArguments = resyncFull ? ["--resync", "full"] : []
            try nodes[index].start()
            do {
                try nodes[index].waitForLog("backup of VM", seconds: options.joinSeconds)
                return
            } catch {
                guard attempt < Self.joinAttempts, nodes[index].waitForExit(seconds: 5) != nil,
                      nodes[index].log.contains("restart the backup") else { throw error }
                lock.withLock { retriedJoins += 1 }
            }
        }
    }

    /// How many times ``rejoin(_:resyncFull:)`` starts a node that the primary refuses.
    public static let joinAttempts = 3

    /// Joins started again after the primary refused them (see ``rejoin(_:resyncFull:)``).
    public var joinsRetried: Int { lock.withLock { retriedJoins } }
    private let lock = NSLock()
    private var retriedJoins = 0

    /// The node that is the live primary now.
    public var primary: Int? { nodes.livePrimary }

    /// Waits until the guest's Redis answers PING from the client namespace.
    public func waitForService(seconds: Double) throws {
        guard let redisCLI = ShortCommand.find("redis-cli") else {
            throw FaultInjectionError.setup("redis-cli not found: install redis-tools (scripts/install-deps.sh does)")
        }
        let deadline = monotonicSeconds() + seconds
        var last = ""
        while monotonicSeconds() < deadline {
            let ping = Result { () throws(NetworkLabError) -> CommandOutput in
                try lab.run(in: .client, redisCLI, ["-h", lab.configuration.guestLANAddress, "-p", "\(Self.redisPort)", "ping"],
                            timeout: 10)
            }
            let output: CommandOutput
            switch ping {
            case .success(let answer):
                output = answer
            case .failure(.timedOut):
                // The client still knows the guest's MAC while no guest answers (it is booting
                // again): the connection waits for TCP's retries. Not up yet; ask again.
                last = "redis-cli ping got no answer within 10 s"
                continue
            case .failure(let error):
                throw error
            }
            if output.succeeded && output.standardOutput.contains("PONG") { return }
            last = "\(output)"
            if !nodes.contains(where: \.isRunning) { break }
            usleep(500_000)
        }
        throw FaultInjectionError.timeout("Redis at \(serviceEndpoint) did not answer from the client namespace within \(seconds) s (\(last)); logs:\n\(logs)")
    }

    /// Starts the Redis client in the client namespace: one connection, writing for `seconds`
    /// (or until ``RedisLoad/stop()``), then reading every acknowledged write back.
    public func startClient(seconds: Double, name: String = "client") throws -> RedisLoad {
        let json = directory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8)).json")
        let process = try lab.spawn(in: .client, name: name, executable: options.lockstepKV, arguments: [
            "redis-load", "--endpoint", serviceEndpoint, "--duration", "\(seconds)", "--json", json.path,
            "--ledger", json.path + ".ledger", "--request-timeout", "30", "--keys", "500"], directory: directory)
        return RedisLoad(process: process, json: json)
    }

    /// Reads back, on a new connection from the client namespace, every acknowledged write of a
    /// client that has finished (``RedisLoad/ledgerPath``): after both nodes restarted from
    /// their disks, for instance. The tool's report, and whether nothing was lost.
    public func verify(ledger path: String) throws -> (passed: Bool, report: String) {
        let output = try lab.run(in: .client, options.lockstepKV, ["redis-verify", "--endpoint", serviceEndpoint, "--ledger", path],
                                 timeout: 180)
        return (output.succeeded, "\(output)")
    }

    /// Every pair of overlapping output releases by two primaries, from the release log.
    public func releaseViolations() -> [String] {
        ReleaseLogCheck.violations(in: releases)
    }

    /// Writes decided under a valid lease that returned only after the next primary's first
    /// write (their node was stopped in between; see ``ReleaseLogCheck``).
    public func stalledWrites() -> [String] {
        ReleaseLogCheck.stalledWrites(in: releases)
    }

    private var releases: [ReleaseLogCheck.Release] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("release.log"), encoding: .utf8)) ?? ""
        return ReleaseLogCheck.parse(text)
    }

    /// Kills every process, removes the lab and (unless ``Options/keepsImages``) the disk images;
    /// the logs stay in ``directory``. On SIGINT or SIGTERM, with ``SignalTeardown`` installed,
    /// the same happens without this call.
    public func stop() {
        for node in nodes { node.kill() }
        arbiterProcess.kill()
        lab.teardown()
        if let signalRegistration {
            for path in imagePaths { for file in [path, path + ".lockstep"] { unlink(file) } }
            signalRegistration.cancel()
        }
    }

    /// All logs, for a failure report.
    public var logs: String { (nodes + [arbiterProcess]).logs(in: directory) }
}

/// A `lockstep-kv redis-load` process in the lab's client namespace.
public final class RedisLoad: @unchecked Sendable {
    public let process: NodeProcess
    let json: URL

    init(process: NodeProcess, json: URL) {
        self.process = process
        self.json = json
    }

    /// Acknowledged writes so far (from its progress lines).
    public var progressLog: String { process.log }

    /// Where the client writes its ledger (every acknowledged write) when its write phase ends.
    public var ledgerPath: String { json.path + ".ledger" }

    /// Ends the write phase now (SIGTERM: the client finishes the write in flight, then verifies).
    public func stop() {
        if let pid = process.processIdentifier, process.isRunning { kill(pid, SIGTERM) }
    }

    /// Waits for the client to verify and exit, and returns its summary.
    public func summary(seconds: Double = 120) throws -> RedisWriterSummary {
        guard process.waitForExit(seconds: seconds) != nil else {
            process.kill()
            throw FaultInjectionError.timeout("the Redis client did not finish within \(seconds) s; its log:\n\(process.log)")
        }
        guard let data = FileManager.default.contents(atPath: json.path) else {
            throw FaultInjectionError.setup("the Redis client wrote no summary; its log:\n\(process.log)")
        }
        return try RedisWriterSummary(json: data)
    }
}
