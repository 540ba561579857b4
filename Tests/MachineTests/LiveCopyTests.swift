import Foundation
import Machine
import Testing

/// A live copy of a running machine (a new backup's pre-copy): pages sent in rounds while the
/// guest runs, then the final snapshot, give a machine equal to the original (state hash) that
/// runs to the same end; and the final snapshot carries far fewer pages than a full one.
@Suite struct LiveCopyTests {
    typealias Guest = SnapshotGuestTests.Guest

    @Test(arguments: SnapshotGuestTests.guests)
    func roundsThenTheFinalSnapshotGiveTheSameMachine(guest: Guest) throws {
        let reference = SnapshotGuestTests.finish(try guest.loaded())
        let total = reference.instructions
        let original = try guest.loaded()
        var before: [UInt8] = []
        original.routeConsole { before.append($0) }
        _ = original.run(instructionLimit: total / 4)
        let receiver = try guest.machine(disk: (original.disk?.storage as? MemoryBlockStorage)?.bytes)
        // Round 1 while the guest runs on between batches.
        var pending = original.beginLiveCopy()
        var round = 1
        while true {
            var start = 0
            while start < pending.count {
                let batch = Array(pending[start..<min(start + 64, pending.count)])
                try receiver.writeRAMPages(batch, original.ramPages(batch))
                start += batch.count
                _ = original.run(instructionLimit: min(total - 1, original.instructionCount + 20_000))
            }
            round += 1
            guard round <= 5, original.writtenPageCount > 4 else { break }
            pending = original.takeWrittenPages()
        }
        // The guest stops: the final snapshot.
        if let disk = original.disk?.storage as? MemoryBlockStorage, let copyDisk = receiver.disk?.storage {
            try copyDisk.writeSectors(at: 0, disk.bytes)   // the disk is the owner's to copy (a resync)
        }
        let final = try original.saveLiveCopySnapshot()
        let full = try original.saveSnapshot()
        try receiver.restoreSnapshot(final)
        #expect(receiver.stateHash() == original.stateHash(), "\(guest): the copy differs")
        #expect(final.count < full.count || full.count < 64 << 10, "\(guest): the final snapshot (\(final.count) bytes) is not smaller than a full one (\(full.count))")
        #expect(SnapshotGuestTests.finish(receiver, output: before) == reference, "\(guest): the copy does not run to the same end")
    }

    @Test func pagesLeftOutAreCaughtByTheStateHash() throws {
        let guest = Guest(name: "bench-short")
        let original = try guest.loaded()
        _ = original.run(instructionLimit: 200_000)
        let receiver = try guest.machine()
        let pages = original.beginLiveCopy()
        try receiver.writeRAMPages(Array(pages.dropLast()), original.ramPages(Array(pages.dropLast())))
        try receiver.restoreSnapshot(try original.saveLiveCopySnapshot())
        #expect(receiver.stateHash() != original.stateHash())
    }

    @Test func misuseIsATypedError() throws {
        let machine = try Guest(name: "timer").loaded()
        #expect(throws: SnapshotError.self) { try machine.saveLiveCopySnapshot() }
        #expect(throws: SnapshotError.self) { try machine.writeRAMPages([0], [1, 2, 3]) }
        #expect(throws: SnapshotError.self) { try machine.writeRAMPages([1 << 30], [UInt8](repeating: 0, count: 4096)) }
    }
}
