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
        subcommands: [Bench.self])

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replicated vs unreplicated: latency, throughput, log bandwidth, failover pause.")

        @Option(help: "The lockstep executable.") var lockstep = ".build/release/lockstep"
        @Option(help: "Requests per latency measurement.") var requests = 300
        @Option(help: "Iterations of the guest's CPU loop.") var loop = 100_000
        @Option(help: "Failovers to time.") var failovers = 5
        @Flag(help: "Use a lock file instead of the arbiter server.") var fileArbiter = false

        func run() throws {
            var options = Cluster.Options(lockstep: lockstep)
            options.arbiter = fileArbiter ? .file : .server
            var benchmark = ReplicationBenchmark(options: options)
            benchmark.requests = requests
            benchmark.loopIterations = loop
            benchmark.failovers = failovers
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-bench-\(UUID().uuidString)")
            try benchmark.run(directory: directory)
        }
    }
}
