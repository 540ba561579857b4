import Foundation
@_spi(Simulation) import Replication
import Simulation
import Testing

/// The cluster simulation: seeds pass, a seed replays identically, and every planted bug is caught.
@Suite struct SimulationTests {
    struct GuestMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is missing: run guests/build.sh (scripts/test.sh does)" }
    }

    static func program() throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("guests/out/kv.elf").path
        guard let bytes = FileManager.default.contents(atPath: path) else { throw GuestMissing(path: path) }
        return [UInt8](bytes)
    }

    static func run(seed: UInt64, plant: PlantedBug? = nil, trace: ((String) -> Void)? = nil) throws -> SimulatedCluster.Result {
        var options = SimulatedCluster.Options(seed: seed, guest: try .bareMetal(program: try program()))
        options.plantedBug = plant
        options.trace = trace
        return SimulatedCluster(options: options).run()
    }

    @Test func seedsPassWithFaults() throws {
        var writes = 0, faults = 0
        for seed in UInt64(1)...20 {
            let result = try Self.run(seed: seed)
            #expect(result.violations.isEmpty, "seed \(seed): \(result.violations)")
            writes += result.acknowledgedWrites
            faults += result.faults
        }
        #expect(writes > 100, "the client hardly wrote anything (\(writes) acknowledged writes)")
        #expect(faults > 20)
    }

    @Test func aSeedReplaysIdentically() throws {
        var first: [String] = [], second: [String] = []
        _ = try Self.run(seed: 42, trace: { first.append($0) })
        _ = try Self.run(seed: 42, trace: { second.append($0) })
        #expect(first.count > 20, "a run with faults traces more than a few events")
        #expect(first == second)
    }

    @Test(arguments: PlantedBug.allCases)
    func plantedBugsAreCaught(bug: PlantedBug) throws {
        for seed in UInt64(1)...300 {
            if !(try Self.run(seed: seed, plant: bug).violations.isEmpty) { return }
        }
        Issue.record("\(bug.rawValue) was not caught in 300 seeds")
    }
}

/// The slower tier: the default Linux guest running kvd, with the same faults and checks.
@Suite struct LinuxSimulationTests {
    @Test func aLinuxSeedPassesAndALostEntryIsCaught() throws {
        let directory = RecordedImages.directory
        guard let kernel = FileManager.default.contents(atPath: directory + "/Image"),
              let initrd = FileManager.default.contents(atPath: directory + "/initramfs.cpio.gz") else {
            throw SimulationTests.GuestMissing(path: directory + "/Image (guests/linux/build.sh)")
        }
        let guest = try SimulatedGuest.linux(kernel: [UInt8](kernel), initrd: [UInt8](initrd))
        let passing = SimulatedCluster(options: .init(seed: 1, guest: guest)).run()
        #expect(passing.violations.isEmpty, "\(passing.violations)")
        #expect(passing.acknowledgedWrites > 20)
        var planted = SimulatedCluster.Options(seed: 1, guest: guest)
        planted.plantedBug = .loseEntry
        #expect(!SimulatedCluster(options: planted).run().violations.isEmpty)
    }
}

/// Where guests/linux/build.sh caches the default guest.
enum RecordedImages {
    static var directory: String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
        return cache + "/linux/current"
    }
}
