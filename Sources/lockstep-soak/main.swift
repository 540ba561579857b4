import ArgumentParser
import FaultInjection
import Foundation

/// Fault injection with real processes: the soak (many rounds of kills and partitions under
/// load) and the replication benchmark.
@main
struct LockstepSoak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep-soak",
        abstract: "Fault injection against two lockstep nodes: soak rounds and the replication benchmark.",
        subcommands: [Run.self, Network.self, Disk.self, Pool.self, Bench.self, NetBench.self, PoolBench.self, PoolHealth.self, Demo.self],
        defaultSubcommand: Run.self)

    /// SIGINT and SIGTERM tear down what the command made (its node processes, its lab's network
    /// namespaces and links, its disk images) before the process ends, as a normal end does.
    static func main() {
        SignalTeardown.shared.install { name in
            say("lockstep-soak: \(name): stopping the nodes, deleting the lab's namespaces and disk images")
        }
        main(nil)
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Inject faults round after round under a continuous write load; print the counts.",
            discussion: """
                Starts an arbiter and two `lockstep node`s running the key-value guest on this \
                machine, a client that writes without pause and remembers every acknowledged write, \
                then injects one fault per round (at a random instant): SIGKILL of the primary, \
                SIGKILL of the backup, one line silenced, both lines silenced (a partition), the \
                arbiter stopped. After each round every acknowledged write is read back and the \
                release log is checked for two primaries. Exit status 1 if anything was lost or \
                two primaries released output.
                """)

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "Rounds to run.") var rounds = 20
        @Option(help: "Faults to draw from (comma-separated).") var faults = Fault.allCases.map(\.rawValue).joined(separator: ",")
        @Option(help: "Seed for the random choices.") var seed: UInt64 = 1
        @Option(help: "Heartbeat timeout in milliseconds.") var heartbeatTimeout = 400
        @Flag(help: "Use a lock file instead of the arbiter server.") var fileArbiter = false
        @Flag(help: "Use a three-member etcd cluster (Debian's etcd-server) as the arbiter; arbiter-down kills two members.") var etcdArbiter = false

        func run() throws {
            let kinds = try faults.split(separator: ",").map { name throws -> Fault in
                guard let fault = Fault(rawValue: String(name)) else {
                    throw ValidationError("unknown fault '\(name)'; known: \(Fault.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return fault
            }
            var options = Cluster.Options(lockstep: lockstep)
            options.heartbeatTimeoutMilliseconds = heartbeatTimeout
            guard !(fileArbiter && etcdArbiter) else { throw ValidationError("give at most one of --file-arbiter and --etcd-arbiter") }
            options.arbiter = fileArbiter ? .file : etcdArbiter ? .etcd : .server
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-soak-\(UUID().uuidString)")
            SignalTeardown.shared.register { say("logs: \(directory.path)") }
            let soak = try Soak(options: options, directory: directory)
            defer { soak.stop() }
            try soak.start()
            var random = SeededGenerator(seed: seed)
            var counts: [Fault: Int] = [:]
            var lost = 0, splitBrain = 0
            for index in 1...rounds {
                let fault = kinds[Int.random(in: 0..<kinds.count, using: &random)]
                let result = try soak.round(fault, using: &random)
                counts[fault, default: 0] += 1
                lost += result.lostWrites.count
                splitBrain += result.splitBrain.count
                say("round \(index): \(result)")
                for problem in result.lostWrites + result.splitBrain { say("  PROBLEM: \(problem)") }
                for stall in result.stalledWrites { say("  stalled write (not a violation): \(stall)") }
            }
            let pauses = soak.rounds.map(\.longestPause).sorted()
            say("rounds: " + Fault.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", "))
            say("writes acknowledged: \(soak.rounds.last?.acknowledgedWrites ?? 0); lost: \(lost); split-brain releases: \(splitBrain)")
            say(String(format: "longest client pause per round: median %.0f ms, max %.0f ms", pauses[pauses.count / 2] * 1000, pauses.last! * 1000))
            say("logs: \(directory.path)")
            if lost > 0 || splitBrain > 0 { throw ExitCode(1) }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replicated vs unreplicated: latency, throughput, log bandwidth, failover pause.")

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "Writes per latency measurement.") var requests = 1000
        @Option(help: "Iterations of the guest's CPU loop.") var loop = 100_000
        @Option(help: "Failovers to time.") var failovers = 5
        @Option(help: "Alone/replicated pairs of the CPU loop.") var pairs = 3
        @Flag(help: "Use a lock file instead of the arbiter server.") var fileArbiter = false

        func run() throws {
            var options = Cluster.Options(lockstep: lockstep)
            options.arbiter = fileArbiter ? .file : .server
            var benchmark = ReplicationBenchmark(options: options)
            benchmark.requests = requests
            benchmark.loopIterations = loop
            benchmark.failovers = failovers
            benchmark.loopPairs = pairs
            benchmark.report = say
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-bench-\(UUID().uuidString)")
            try benchmark.run(directory: directory)
        }
    }
}

extension LockstepSoak {
    struct NetBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "net-bench",
            abstract: "Redis in the guest under redis-benchmark: Lockstep unreplicated, replicated, and QEMU TCG, through user-mode networking.")

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "The guest image directory (guests/linux/build.sh prints it).") var images: String
        @Option(help: "Requests per redis-benchmark run.") var requests = 20_000
        @Option(help: "Concurrent clients of the throughput run.") var clients = 8
        @Option(help: "Guest memory in MiB.") var memory = 256

        func run() throws {
            var benchmark = NetworkBenchmark(lockstep: lockstep, images: images)
            benchmark.requests = requests
            benchmark.clients = clients
            benchmark.memoryMiB = memory
            benchmark.report = say
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-net-bench-\(UUID().uuidString)")
            try benchmark.run(directory: directory)
            say("logs: \(directory.path)")
        }
    }
}

extension LockstepSoak {
    struct Network: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "network",
            abstract: "Network faults round after round against Redis in the guest, one client connection throughout (root).",
            discussion: """
                Deploys the VM in network namespaces (hosts, a LAN, two lines, the arbiter; \
                docs/networking.md), the guest running Redis on a TAP on each host's bridge, and \
                a client in its own namespace that holds ONE TCP connection for the whole soak and \
                writes without pause. Each round injects one fault (SIGKILL of the primary or the \
                backup, a partition, the primary's LAN port cut, a kill after re-protection), then \
                protects the VM again. At the end every acknowledged write is read back. Exit \
                status 1 if the connection was lost, a write was lost or two primaries released.
                """)

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "The lockstep-kv executable.") var lockstepKV = ".build/release/lockstep-kv"
        @Option(help: "Rounds to run.") var rounds = 10
        @Option(help: "Faults to draw from (comma-separated).") var faults = NetworkFault.allCases.map(\.rawValue).joined(separator: ",")
        @Option(help: "Seed for the random choices.") var seed: UInt64 = 1

        func run() throws {
            let kinds: [NetworkFault] = try parseFaults(faults)
            try requireNetworkLab()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-net-soak-\(UUID().uuidString)")
            SignalTeardown.shared.register { say("logs: \(directory.path)") }
            let cluster = try LabCluster(options: LabCluster.Options(lockstep: lockstep, lockstepKV: lockstepKV), directory: directory)
            defer { cluster.stop() }
            try cluster.start()
            let client = try cluster.startClient(seconds: 36_000)
            var random = SeededGenerator(seed: seed)
            for index in 1...rounds {
                Thread.sleep(forTimeInterval: Double.random(in: 1...3, using: &random))
                let fault = kinds[Int.random(in: 0..<kinds.count, using: &random)]
                try cluster.inject(fault)
                try cluster.reprotect()
                say("round \(index): \(fault), then protected again")
            }
            Thread.sleep(forTimeInterval: 2)
            client.stop()
            let summary = try client.summary()
            let violations = cluster.releaseViolations()
            say("client: \(summary)")
            say(violations.isEmpty ? "release log: never two primaries" : "release log: TWO PRIMARIES: \(violations)")
            say("logs: \(directory.path)")
            if !summary.passed || !violations.isEmpty { throw ExitCode(1) }
        }
    }

    struct Disk: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disk faults round after round against Redis keeping an fsync-always append-only file on the mirrored disk (root).",
            discussion: """
                The network lab of `network`, with a 64 MiB ext4 disk per node (copies at \
                --sync-rate, slow by default so that faults land inside them). Each round a \
                client writes, one fault is injected (a backup killed during its resync, the \
                primary killed in the final pause of a live copy, both nodes killed at once, the \
                primary killed), the VM is protected again, and every acknowledged write of the \
                round is read back on a new connection. Exit status 1 if a write was lost or two \
                primaries released.

                --guest debian runs the same rounds against the Debian trixie system that \
                guests/debian/build.sh builds: the mirrored disk is a copy of its 2 GiB root file \
                system, each node boots the kernel and initrd found in it (--boot-from-disk) with \
                --memory 1024, and Debian's own redis-server keeps its append-only file \
                (appendfsync always) in /var/lib/redis on that disk. A boot is about 17 billion \
                instructions, so a round that boots (both nodes killed, a primary killed in the \
                final pause) takes minutes.

                SIGINT or SIGTERM stops the nodes and deletes the lab and the disk images before \
                the process ends; the logs stay.
                """)

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "The lockstep-kv executable.") var lockstepKV = ".build/release/lockstep-kv"
        @Option(help: "Rounds to run.") var rounds = 8
        @Option(help: "Faults to draw from (comma-separated).") var faults = DiskFault.allCases.map(\.rawValue).joined(separator: ",")
        @Option(help: "--disk-sync of the nodes.") var diskSync = "primary"
        @Option(help: "--sync-rate of the nodes (MiB/s).") var syncRate: Double = 20
        @Option(help: "Seed for the random choices.") var seed: UInt64 = 1
        @Option(help: "The guest: default (the default Linux guest with a 64 MiB data disk) or debian (guests/debian/build.sh's image; the disk is its root file system).")
        var guest = "default"
        @Option(help: "The Debian image directory, for --guest debian (default: $LOCKSTEP_CACHE/debian/current).")
        var debianImage: String?
        @Option(help: "Guest memory in MiB (default: 256, or 1024 for --guest debian).") var memory: Int?
        @Option(help: "Heartbeat timeout of the nodes in milliseconds (longer on a loaded machine, where both nodes can be starved of the CPU that long).") var heartbeatTimeout = 400
        @Flag(help: "Keep the nodes' disk images at the end (deleted by default; the logs stay).") var keepImages = false

        func validate() throws {
            guard guest == "default" || guest == "debian" else {
                throw ValidationError("--guest must be default or debian, not '\(guest)'")
            }
            if debianImage != nil && guest != "debian" { throw ValidationError("--debian-image needs --guest debian") }
        }

        func run() throws {
            let kinds: [DiskFault] = try parseFaults(faults)
            try requireNetworkLab()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-disk-soak-\(UUID().uuidString)")
            var options: LabCluster.Options
            if guest == "debian" {
                options = .debian(lockstep: lockstep, lockstepKV: lockstepKV, imageDirectory: debianImage ?? LabGuest.defaultDebianImageDirectory)
            } else {
                options = LabCluster.Options(lockstep: lockstep, lockstepKV: lockstepKV)
                options.diskMiB = 64
            }
            if let memory { options.memoryMiB = memory }
            options.heartbeatTimeoutMilliseconds = heartbeatTimeout
            options.diskSync = diskSync
            options.syncRateMiB = syncRate
            options.keepsImages = keepImages
            SignalTeardown.shared.register { say("logs: \(directory.path)") }
            say("lab: \(guest) guest, logs in \(directory.path)")
            let cluster = try LabCluster(options: options, directory: directory)
            defer { cluster.stop() }
            try cluster.start()
            say("protected: \(cluster.nodes[0].name) primary, \(cluster.nodes[1].name) backup, Redis at \(cluster.serviceEndpoint)")
            var random = SeededGenerator(seed: seed)
            var failed = false
            for index in 1...rounds {
                let started = Date()
                let client = try cluster.startClient(seconds: 36_000, name: "client-\(index)")
                Thread.sleep(forTimeInterval: Double.random(in: 1...3, using: &random))
                let fault = kinds[Int.random(in: 0..<kinds.count, using: &random)]
                try cluster.inject(fault, random: Double.random(in: 0...1.5, using: &random))
                try cluster.reprotect()
                Thread.sleep(forTimeInterval: 1)
                client.stop()
                let summary = try client.summary()
                let verified = try cluster.verify(ledger: client.ledgerPath)
                let lost = !summary.lostWrites.isEmpty || !verified.passed
                failed = failed || lost
                say("round \(index): \(fault): \(summary.acknowledgedWrites) writes acknowledged, connection \(summary.connectionKept ? "kept" : "lost"), \(lost ? "WRITES LOST: \(verified.report)" : "every acknowledged write read back"); protected again (\(Int(Date().timeIntervalSince(started))) s)")
            }
            let violations = cluster.releaseViolations()
            say(violations.isEmpty ? "release log: never two primaries" : "release log: TWO PRIMARIES: \(violations)")
            if cluster.joinsRetried > 0 {
                say("joins started again after the primary declared the joining node lost (CPU starvation past the heartbeat timeout): \(cluster.joinsRetried)")
            }
            say("logs: \(directory.path)")
            if failed || !violations.isEmpty { throw ExitCode(1) }
        }
    }

    struct Pool: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pool faults at random against two Redis VMs on a pool of three hosts and a three-member etcd (root).",
            discussion: """
                Deploys a pool in network namespaces (PoolLab: three hosts, each with a `lockstep \
                agent` and an etcd member, a switch, a client; docs/pool.md): two Redis VMs with \
                64 MiB mirrored disks, declared with `lockstep vm create` and placed by the pool. \
                Each round a client writes to each VM on ONE connection, one fault is drawn (a \
                switchover, a host drained and undrained, an etcd member killed while a \
                switchover runs, a primary's host partitioned and healed, a host killed that runs a \
                primary and a backup), the pool protects every VM again, and each client reads \
                every acknowledged write back. Exit status 1 if a connection was lost, a write was \
                lost or two primaries released output.

                SIGINT or SIGTERM stops every process and deletes the lab's namespaces, disk \
                images and etcd data before the process ends; the logs stay.
                """)

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "The lockstep-kv executable.") var lockstepKV = ".build/release/lockstep-kv"
        @Option(help: "Rounds to run.") var rounds = 10
        @Option(help: "Faults to draw from (comma-separated).") var faults = PoolFault.allCases.map(\.rawValue).joined(separator: ",")
        @Option(help: "Seed for the random choices.") var seed: UInt64 = 1
        @Option(help: "Heartbeat timeout of the nodes in milliseconds.") var heartbeatTimeout = 1000

        func run() throws {
            let kinds: [PoolFault] = try parseFaults(faults)
            try requireNetworkLab()
            guard EtcdCluster.executable != nil else { throw ValidationError("etcd is not installed: apt-get install etcd-server") }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-pool-soak-\(UUID().uuidString)")
            SignalTeardown.shared.register { say("logs: \(directory.path)") }
            var options = PoolLab.Options(lockstep: lockstep, lockstepKV: lockstepKV)
            options.heartbeatTimeoutMilliseconds = heartbeatTimeout
            say("pool lab: logs in \(directory.path)")
            let lab = try PoolLab(options: options, directory: directory)
            defer { lab.stop() }
            let booted = Date()
            try lab.start()
            say("pool: \(lab.vmNames.joined(separator: ", ")) protected and serving after \(Int(Date().timeIntervalSince(booted))) s")
            var random = SeededGenerator(seed: seed)
            var failed = false
            for index in 1...rounds {
                let started = Date()
                let fault = kinds[Int.random(in: 0..<kinds.count, using: &random)]
                let choice = Int.random(in: 0..<lab.vmNames.count, using: &random)
                let (outcome, clients) = try lab.underLoad("round\(index)", before: Double.random(in: 1...3, using: &random), after: 1) {
                    try lab.inject(fault, choice: choice)
                }
                var checks: [String] = []
                for (vm, summary) in clients {
                    let lost = !summary.lostWrites.isEmpty || summary.verificationError != nil
                    let violations = lab.releaseViolations(vm)
                    failed = failed || lost || !summary.connectionKept || !violations.isEmpty
                    checks.append("\(vm) \(summary.acknowledgedWrites) writes, stall \(Int(summary.longestStallMilliseconds)) ms, connection \(summary.connectionKept ? "kept" : "LOST"), \(lost ? "WRITES LOST" : "all read back")\(violations.isEmpty ? "" : ", TWO PRIMARIES: \(violations)")")
                }
                say("round \(index): \(fault): \(outcome) [\(checks.joined(separator: "; "))] (\(Int(Date().timeIntervalSince(started))) s)")
            }
            say(failed ? "PROBLEM: see above" : "every round: connections kept, every acknowledged write read back, never two primaries")
            say("logs: \(directory.path)")
            if failed { throw ExitCode(1) }
        }
    }

    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The failover demo: Redis protected on two hosts, a client, SIGKILL of the primary, a timeline.")

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "The lockstep-kv executable.") var lockstepKV = ".build/release/lockstep-kv"
        @Option(help: "Guest memory in MiB.") var memory = 256
        @Flag(help: "Loopback and user-mode networking even as root (no namespaces).") var loopback = false
        @Flag(help: "The two-host demo (an arbiter, hosts A and B) even where a pool on etcd can run.") var pair = false

        func run() throws {
            var demo = FailoverDemo(lockstep: lockstep, lockstepKV: lockstepKV)
            demo.memoryMiB = memory
            demo.loopbackOnly = loopback
            demo.pairOnly = pair
            demo.say = say
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-demo-\(UUID().uuidString)")
            let passed = try demo.run(directory: directory)
            say(passed ? "done: no acknowledged write lost" : "PROBLEM: see the logs in \(directory.path)")
            if passed { try? FileManager.default.removeItem(at: directory) } else { throw ExitCode(1) }
        }
    }
}

/// The faults named in a comma-separated list, or a validation error that lists the known ones.
func parseFaults<Fault: RawRepresentable & CaseIterable>(_ list: String) throws -> [Fault] where Fault.RawValue == String {
    try list.split(separator: ",").map { name throws -> Fault in
        guard let fault = Fault(rawValue: String(name)) else {
            throw ValidationError("unknown fault '\(name)'; known: \(Fault.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return fault
    }
}

/// Network namespaces are needed (root and iproute2).
func requireNetworkLab() throws {
    guard NetworkLab.isAvailable else {
        throw ValidationError("network namespaces are not available here (\(NetworkLab.unavailableReason ?? "?")): run as root")
    }
}

/// splitmix64: reproducible rounds for a given --seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension LockstepSoak {
    /// `lockstep-soak pool-health`: the probe-to-decision time of a gray failure (issue 16, item 8).
    struct PoolHealth: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pool-health",
            abstract: "A pool of three agents on a three-member etcd: a VM's primary slowed to a few % of a CPU, timed to the health policy's decision and to the new primary answering.",
            discussion: "Needs root (a cgroup slows the primary down) and etcd. Each run declares a new VM probed on its console, waits until it is protected and healthy, slows its primary down, and deletes it after.")

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "Gray failures to time.") var runs = 5
        @Option(help: "The share of one CPU the slowed primary gets (%).") var percent = 2
        @Option(help: "Guest memory in MiB.") var memory = 128

        func run() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-pool-health-\(UUID().uuidString)")
            var options = PoolCluster.Options(lockstep: lockstep)
            options.heartbeatTimeoutMilliseconds = PoolGrayFailure.heartbeatTimeoutMilliseconds
            let pool = try PoolCluster(options: options, directory: directory)
            let teardown = SignalTeardown.shared.register { pool.stop() }
            defer { pool.stop(); teardown.cancel() }
            try pool.start()
            var decisions: [Double] = [], serving: [Double] = []
            for index in 1...runs {
                let vm = "gray\(index)", base = try PoolCluster.freeBasePort()
                try pool.lockstep(["vm", "create", vm, "--memory", "\(memory)", "--base-port", "\(base)", "--probe", "console",
                                   "--probe-threshold", "\(PoolGrayFailure.thresholdMilliseconds)"])
                var scenario = PoolGrayFailure(pool: pool, vm: vm, basePort: base)
                scenario.percent = percent
                let result = try scenario.run()
                decisions.append(result.decision)
                serving.append(result.serving)
                say(String(format: "run %d: primary on %@ slowed to %d %% of a CPU: decision after %.2f s, new primary on %@ answering after %.2f s",
                           index, result.from, percent, result.decision, result.to, result.serving))
                say("  before: \(result.before)")
                say("  \(result.line)")
                try pool.lockstep(["vm", "delete", vm])
                let deadline = Date(timeIntervalSinceNow: 30)
                while Date() < deadline && pool.hostNames.contains(where: { !pool.nodeProcesses(of: $0, vm: vm).isEmpty }) { usleep(100_000) }
            }
            func summary(_ values: [Double]) -> String {
                let sorted = values.sorted()
                return String(format: "min %.2f s, median %.2f s, max %.2f s", sorted.first ?? 0, sorted[sorted.count / 2], sorted.last ?? 0)
            }
            say("slow-down to decision: \(summary(decisions)) over \(runs) runs")
            say("slow-down to the new primary answering: \(summary(serving)) over \(runs) runs")
            try? FileManager.default.removeItem(at: directory)
        }
    }
}

/// Prints a line and flushes it at once (a line per round as it happens, even into a file).
func say(_ line: String) {
    print(line)
    fflush(nil)
}

extension LockstepSoak {
    struct PoolBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pool-bench",
            abstract: "The pool (three agents on loopback, a three-member etcd): etcd traffic per VM, switchover stalls, host loss to every VM live and protected again.")

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "VMs in the pool.") var vms = 2
        @Option(help: "Guest memory in MiB.") var memory = 256
        @Option(help: "A mirrored disk per VM, in MiB (0: none).") var disk = 1024
        @Option(help: "Host losses to time.") var hostLosses = 3
        @Option(help: "Switchovers to time.") var switchovers = 3
        @Option(help: "Seconds over which etcd traffic is counted.") var trafficSeconds = 20.0
        @Flag(help: "Keep the pool's directory (logs, status files) and print where it is.") var keep = false
        @Option(name: .customLong("node-argument"), parsing: .unconditionalSingleValue, help: ArgumentHelp("An argument for every node the agents start (repeatable), e.g. --node-argument=--backup-priority --node-argument=normal.", valueName: "argument"))
        var nodeArguments: [String] = []

        func run() throws {
            var benchmark = PoolBenchmark(lockstep: lockstep)
            benchmark.nodeArguments = nodeArguments
            benchmark.vms = vms
            benchmark.memoryMiB = memory
            benchmark.diskMiB = disk > 0 ? disk : nil
            benchmark.hostLosses = hostLosses
            benchmark.switchovers = switchovers
            benchmark.trafficSeconds = trafficSeconds
            benchmark.report = say
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-pool-bench-\(UUID().uuidString)")
            defer { if keep { say("logs: \(directory.path)") } else { try? FileManager.default.removeItem(at: directory) } }
            try benchmark.run(directory: directory)
        }
    }
}
