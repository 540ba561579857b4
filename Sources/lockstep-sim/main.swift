import ArgumentParser
import Foundation
@_spi(Simulation) import Replication
import Simulation

/// `lockstep-sim`: the deterministic simulation of a replicated VM's cluster (docs/simulation.md).
struct LockstepSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep-sim",
        abstract: "Run the cluster (two nodes, the arbiter, the lines, a client) in one process under seeded faults.",
        subcommands: [Run.self])
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run seeds and check every invariant; exits 1 when one is violated, naming the seed.",
        discussion: """
            Each seed is one run: the guest (guests/out/kv.elf, a bare-metal key-value service) \
            starts on one node, the other joins as its backup, a client writes to it, and faults \
            drawn from the seed (lost, delayed, duplicated or reordered frames on a line, a line \
            down, a partition, a crash and restart, a freeze, the arbiter unreachable) hit the \
            cluster for 3 virtual seconds. Then everything heals and every acknowledged write \
            must be read back. --seed S --trace prints one run event by event, the same every time.
            """)

    @Option(help: "How many seeds to run.") var seeds: UInt64 = 100
    @Option(help: "The first seed.") var firstSeed: UInt64 = 1
    @Option(help: "Run only this seed.") var seed: UInt64?
    @Flag(help: "Print the run event by event (with --seed).") var trace = false
    @Option(help: "Plant a bug to show the checks can fail: release-before-ack, lose-entry, two-primaries.")
    var plant: String?
    @Option(help: "The guest: bare (guests/bare/kv, thousands of runs a minute) or linux (the default Linux guest running kvd, seconds a run).")
    var guest: String = "bare"
    @Option(help: "The bare-metal guest program.") var program: String = "guests/out/kv.elf"

    func validate() throws {
        if let plant, PlantedBug(rawValue: plant) == nil {
            throw ValidationError("--plant must be one of \(PlantedBug.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(plant)')")
        }
        if trace && seed == nil { throw ValidationError("--trace needs --seed (one run)") }
        if seeds == 0 { throw ValidationError("--seeds must be at least 1") }
        if guest != "bare" && guest != "linux" { throw ValidationError("--guest must be bare or linux (got '\(guest)')") }
    }

    func run() throws {
        let simulated = try loadGuest()
        let range = seed.map { $0...$0 } ?? firstSeed...(firstSeed + seeds - 1)
        var passed = 0, failed = 0
        var acknowledged = 0, failovers = 0, switchovers = 0, reboots = 0, faults = 0, erased = 0, erasedRuns = 0
        let started = Date()
        for current in range {
            var options = SimulatedCluster.Options(seed: current, guest: simulated)
            options.plantedBug = plant.flatMap(PlantedBug.init(rawValue:))
            if trace { options.trace = { print($0) } }
            let result = SimulatedCluster(options: options).run()
            acknowledged += result.acknowledgedWrites
            failovers += result.failovers
            switchovers += result.switchovers
            reboots += result.reboots
            erased += result.keysErasedByUnseenReboots
            if result.keysErasedByUnseenReboots > 0 { erasedRuns += 1 }
            faults += result.faults
            if result.violations.isEmpty {
                passed += 1
            } else {
                failed += 1
                for violation in result.violations { print("seed \(current): \(violation)") }
                print("  reproduce: lockstep-sim run --seed \(current) --trace" + (plant.map { " --plant \($0)" } ?? ""))
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print("\(acknowledged) acknowledged writes, \(failovers) failovers (\(switchovers) of them switchovers), \(reboots) guest reboots, \(faults) faults in \(String(format: "%.1f", seconds)) s")
        if erased > 0 {
            print("\(erased) keys in \(erasedRuns) runs read back missing after a reboot the client asked for but could not see (accepted)")
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

extension Run {
    /// Reads the guest's images; a missing or malformed one is an error that says how to build it.
    func loadGuest() throws -> SimulatedGuest {
        func read(_ path: String, _ what: String, build: String) throws -> [UInt8] {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the \(what) \(path): build it with \(build)")
            }
            return [UInt8](bytes)
        }
        do {
            if guest == "linux" {
                let environment = ProcessInfo.processInfo.environment
                let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
                    ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
                let directory = cache + "/linux/current"
                return try .linux(kernel: try read(directory + "/Image", "kernel", build: "guests/linux/build.sh"),
                                  initrd: try read(directory + "/initramfs.cpio.gz", "initramfs", build: "guests/linux/build.sh"))
            }
            return try .bareMetal(program: try read(program, "guest program", build: "guests/build.sh"))
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("the guest cannot be used: \(error)")
        }
    }
}

LockstepSim.main()
