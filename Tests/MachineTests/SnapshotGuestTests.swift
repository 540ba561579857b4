import HostIO
import Foundation
import Machine
import RISCV
import Testing

/// Bare-metal guests snapshotted at several instruction counts and restored into other machines
/// continue exactly as an uninterrupted run: same console output after the snapshot, same exit,
/// same final instruction count and state hash.
@Suite struct SnapshotGuestTests {
    /// A guest and how to build a machine for it.
    struct Guest: CustomStringConvertible, Sendable {
        var name: String
        var withDisk = false
        var description: String { name }

        static let configuration = MachineConfiguration(memorySize: 64 << 20, entropySeed: 1)

        /// A machine for the guest; `disk` is the disk's contents (VirtioGuestTests' image by default).
        func machine(disk: [UInt8]? = nil) throws -> Machine {
            try Machine(configuration: Guest.configuration,
                        disk: withDisk ? MemoryBlockStorage(contents: disk ?? VirtioGuestTests.diskImage) : nil)
        }

        func loaded() throws -> Machine {
            let machine = try machine()
            try machine.load(elfAt: try Repository.guest(name))
            return machine
        }
    }

    /// What a run ends with.
    struct Outcome: Equatable {
        var output: [UInt8]
        var stop: Machine.StopReason
        var instructions: UInt64
        var hash: UInt64
    }

    static func finish(_ machine: Machine, output: [UInt8] = [], limit: UInt64 = 500_000_000) -> Outcome {
        var output = output
        machine.routeConsole { output.append($0) }
        let stop = machine.run(instructionLimit: limit)
        return Outcome(output: output, stop: stop, instructions: machine.instructionCount, hash: machine.stateHash())
    }

    static let guests = [Guest(name: "timer"), Guest(name: "bench-short"), Guest(name: "htif-hello"),
                         Guest(name: "virtio", withDisk: true), Guest(name: "vm")]

    @Test(arguments: guests)
    func restoredRunsMatchTheUninterruptedRun(guest: Guest) throws {
        let reference = Self.finish(try guest.loaded())
        #expect(reference.stop == .exited(code: 0), "\(guest): the guest did not succeed")
        let total = reference.instructions
        var points: [UInt64] = [1, total / 7, total / 3, total * 2 / 3, total - 1]
        points = Array(Set(points.filter { $0 > 0 && $0 < total })).sorted()
        for point in points {
            // Run to the snapshot point and snapshot.
            let original = try guest.loaded()
            var before: [UInt8] = []
            original.routeConsole { before.append($0) }
            #expect(original.run(instructionLimit: point) == .instructionLimit)
            let hashAtPoint = original.stateHash()
            let snapshot = try original.saveSnapshot()
            #expect(original.stateHash() == hashAtPoint, "saving changed the state")
            let disk = (original.disk?.storage as? MemoryBlockStorage)?.bytes

            // Restore into a fresh machine: same state hash at once, same outcome at the end.
            let restored = try guest.machine(disk: disk)
            try restored.restoreSnapshot(snapshot)
            #expect(restored.instructionCount == point)
            #expect(restored.stateHash() == hashAtPoint, "\(guest) at \(point): restored state hash differs")
            let resumed = Self.finish(restored, output: before)
            #expect(resumed == reference, "\(guest) restored at \(point) ends differently")

            // The original, having been snapshotted, goes on unchanged.
            #expect(Self.finish(original, output: before) == reference)
        }
    }

    /// A restore replaces everything, also on a machine that ran something else (other RAM
    /// contents, HTIF present or not, devices in use).
    @Test func restoreOntoAUsedMachine() throws {
        let timer = Guest(name: "timer"), htif = Guest(name: "htif-hello")
        for (snapshotted, other) in [(timer, htif), (htif, timer)] {
            let reference = Self.finish(try snapshotted.loaded())
            let original = try snapshotted.loaded()
            var before: [UInt8] = []
            original.routeConsole { before.append($0) }
            _ = original.run(instructionLimit: reference.instructions / 2)
            let snapshot = try original.saveSnapshot()

            let used = try other.loaded()
            _ = used.run()
            try used.restoreSnapshot(snapshot)
            #expect(used.htif?.toHost == original.htif?.toHost)
            #expect(used.stateHash() == original.stateHash())
            #expect(Self.finish(used, output: before) == reference, "\(snapshotted) restored over \(other)")
        }
    }

    /// A snapshot taken while the guest waits for a disk interrupt or has virtio requests in
    /// flight: the virtio guest snapshotted at every 5000th instruction of its device phase.
    @Test func virtioGuestAtManyPoints() throws {
        let guest = Guest(name: "virtio", withDisk: true)
        let reference = Self.finish(try guest.loaded())
        let original = try guest.loaded()
        var before: [UInt8] = []
        original.routeConsole { before.append($0) }
        var point: UInt64 = 2_000
        var checked = 0
        while point < reference.instructions {
            #expect(original.run(instructionLimit: point) == .instructionLimit)
            let snapshot = try original.saveSnapshot()
            let restored = try guest.machine(disk: (original.disk?.storage as? MemoryBlockStorage)?.bytes)
            try restored.restoreSnapshot(snapshot)
            #expect(restored.stateHash() == original.stateHash())
            if checked % 4 == 0 {
                #expect(Self.finish(restored, output: before) == reference, "virtio restored at \(point)")
            }
            checked += 1
            point += max(5_000, reference.instructions / 40)
        }
        #expect(checked > 4)
    }

    /// A chain of incremental snapshots (dirty tracking restarted at each) applied to a copy
    /// restored from the first full snapshot gives, at every point, the state hash of the original
    /// and of a full snapshot taken there; the copy then runs to the same end.
    @Test(arguments: guests)
    func incrementalChainsMatchFullSnapshots(guest: Guest) throws {
        let reference = Self.finish(try guest.loaded())
        let total = reference.instructions
        let original = try guest.loaded()
        var before: [UInt8] = []
        original.routeConsole { before.append($0) }
        _ = original.run(instructionLimit: total / 5)
        let base = try original.saveSnapshot()
        original.startDirtyTracking()
        let copy = try guest.machine(disk: (original.disk?.storage as? MemoryBlockStorage)?.bytes)
        try copy.restoreSnapshot(base)
        for step in 1...3 {
            #expect(original.run(instructionLimit: total / 5 + UInt64(step) * total / 5) == .instructionLimit)
            let incremental = try original.saveIncrementalSnapshot()
            let full = try original.saveSnapshot()
            #expect(incremental.count <= full.count + 4096)
            original.startDirtyTracking()
            // The disk is not part of a snapshot: bring the copy's disk up to date, as whoever
            // keeps the copy would (the restore checks that it is).
            if let disk = original.disk?.storage as? MemoryBlockStorage, let copyDisk = copy.disk?.storage {
                try copyDisk.writeSectors(at: 0, disk.bytes)
            }
            try copy.restoreSnapshot(incremental)
            let fromFull = try guest.machine(disk: (original.disk?.storage as? MemoryBlockStorage)?.bytes)
            try fromFull.restoreSnapshot(full)
            #expect(copy.stateHash() == original.stateHash(), "\(guest) step \(step): base + increments differ from the original")
            #expect(fromFull.stateHash() == original.stateHash(), "\(guest) step \(step): the full snapshot differs")
        }
        #expect(Self.finish(copy, output: before) == reference)
    }
}
