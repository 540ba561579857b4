@testable import Machine
import RISCV
import Testing

/// A machine with several disks: each goes, in the order given, to the virtio-mmio slot QEMU's
/// `virt` gives `-device virtio-blk-device` given in that order after its disk, entropy device and
/// network card (7, then 4, 3, 2), with its own serial; each is in the state hash and in a
/// snapshot's identity, and a snapshot refuses another count, another order or a changed disk.
/// (LinuxBootTests checks that Linux names them /dev/vda, /dev/vdb, ... in that order.)
@Suite struct MultipleDisksTests {
    static let configuration = MachineConfiguration(memorySize: 4 << 20, entropySeed: 3)

    /// Disks of different sizes (so that a swap shows), each with its place in its first byte.
    static func storages(_ count: Int) -> [MemoryBlockStorage] {
        (0..<count).map { index in
            var bytes = [UInt8](repeating: 0, count: (64 + 8 * index) * 512)
            bytes[0] = UInt8(index + 1)
            return MemoryBlockStorage(contents: bytes)
        }
    }

    static func machine(_ storages: [MemoryBlockStorage]) throws -> Machine {
        try Machine(configuration: configuration, disks: storages)
    }

    @Test func disksGoToTheSlotsQEMUGivesThemInOrder() throws {
        let storages = Self.storages(4)
        let machine = try Self.machine(storages)
        #expect(machine.disks.count == 4 && machine.disk === machine.disks[0])
        for (index, slot) in [7, 4, 3, 2].enumerated() {
            let device = machine.virtioSlots[slot].device as? VirtioBlock
            #expect(device === machine.disks[index], "slot \(slot)")
            #expect(device?.storage === storages[index], "slot \(slot)")
            // The guest sees a block device of that disk's capacity there.
            let base = PlatformDescription.virtioMMIOAddress(slot: slot)
            #expect(machine.bus.load(physicalAddress: base + 0x008, size: 4) == 2, "slot \(slot)")
            #expect(machine.bus.load(physicalAddress: base + 0x100, size: 8) == UInt64(64 + 8 * index), "slot \(slot)")
        }
        #expect(machine.disks.map { String(decoding: $0.serial, as: UTF8.self) }
                == ["lockstep-disk", "lockstep-disk2", "lockstep-disk3", "lockstep-disk4"])
        #expect(machine.virtioSlots[6].device is VirtioEntropy && machine.virtioSlots[5].device is VirtioNetwork)
        #expect(machine.virtioSlots[1].device == nil && machine.virtioSlots[0].device == nil)
        // One disk: the layout of a machine that had only one (slot 7, the rest free).
        let one = try Self.machine(Self.storages(1))
        #expect(one.virtioSlots[7].device is VirtioBlock && [4, 3, 2, 1, 0].allSatisfy { one.virtioSlots[$0].device == nil })
        #expect(Machine.diskSlots == [7, 4, 3, 2] && Machine.maximumDiskCount == 4)
        // The state digest names every block slot.
        let names = machine.stateDigest().parts.map(\.name)
        for slot in [7, 4, 3, 2] { #expect(names.contains("virtio slot \(slot) (block)"), "\(names)") }
    }

    @Test func moreDisksThanSlotsAreRefusedWithWhatToDo() {
        #expect(throws: MachineError.tooManyDisks(5, maximum: 4)) { try Self.machine(Self.storages(5)) }
        let message = MachineError.tooManyDisks(5, maximum: 4).description
        #expect(message.contains("at most 4") && message.contains("give at most 4 --disk"), "\(message)")
    }

    /// A write through the second disk's slot reaches that disk only, updates its digest (as a
    /// fresh read would compute it) and the state hash; a flush there stops a machine that stops
    /// at flushes.
    @Test func eachDiskIsWrittenThroughItsOwnSlotAndHashed() throws {
        let storages = Self.storages(2)
        let machine = try Self.machine(storages)
        let before = machine.stateHash()
        let firstDigest = try machine.disks[0].contentDigest()
        let driver = VirtioTestDriver(machine: machine, slot: 4)
        driver.start(queueCount: 1)
        let data = VirtioBlockTests.pattern(1024, seed: 5)
        let write = driver.submit(0, [.readable(VirtioBlockTests.header(type: 1, sector: 5) + data), .writable(1)])
        #expect(driver.memory.read(at: write.addresses[1], count: 1) == [0])
        #expect(Array(storages[1].bytes[5 * 512..<7 * 512]) == data)
        #expect(storages[0].bytes[5 * 512..<7 * 512].allSatisfy { $0 == 0 })
        var fresh = DiskContentDigest()
        #expect(try machine.disks[1].contentDigest() == fresh.value(of: storages[1]))
        #expect(try machine.disks[0].contentDigest() == firstDigest)
        #expect(machine.stateHash() != before)
        let id = driver.submit(0, [.readable(VirtioBlockTests.header(type: 8, sector: 0)), .writable(20), .writable(1)])
        #expect(driver.memory.read(at: id.addresses[1], count: 14) == Array("lockstep-disk2".utf8))

        machine.stopsAtDiskFlush = true
        driver.submit(0, [.readable(VirtioBlockTests.header(type: 4, sector: 0)), .writable(1)])
        #expect(storages[1].flushCount == 1 && storages[0].flushCount == 0)
        #expect(machine.run(instructionLimit: machine.instructionCount + 100) == .diskFlushed)
    }

    @Test func theStateHashCoversEveryDisk() throws {
        let hash = try Self.machine(Self.storages(2)).stateHash()
        let changed = Self.storages(2)
        try changed[1].writeSectors(at: 63, [UInt8](repeating: 9, count: 512))
        #expect(try Self.machine(changed).stateHash() != hash)
        #expect(try Self.machine(Self.storages(1)).stateHash() != hash)
        #expect(try Self.machine(Self.storages(2)).stateHash() == hash)
    }

    @Test func aSnapshotRecordsEveryDiskAndRefusesAnotherSet() throws {
        let machine = try Self.machine(Self.storages(2))
        let snapshot = try machine.saveSnapshot()
        let info = try SnapshotInfo(snapshot)
        #expect(info.formatVersion == 5 && info.disks.map(\.sectorCount) == [64, 72])
        #expect(try machine.disks.map { try DiskIdentity(of: $0) } == info.disks)

        let restored = try Self.machine(Self.storages(2))
        try restored.restoreSnapshot(snapshot)
        #expect(restored.stateHash() == machine.stateHash())

        func refusal(_ storages: [MemoryBlockStorage]) throws -> String? {
            let target = try Self.machine(storages)
            let hash = target.stateHash()
            do throws(SnapshotError) {
                try target.restoreSnapshot(snapshot)
                return nil
            } catch {
                #expect(target.stateHash() == hash, "a refused snapshot changed the machine")
                guard case .diskMismatch = error else { return "not a disk mismatch: \(error)" }
                return error.description
            }
        }
        let storages = Self.storages(2)
        let fewer = try refusal([storages[0]])
        #expect(fewer?.contains("taken with 2 disks") == true && fewer?.contains("this machine has 1 disk") == true, "\(fewer ?? "restored")")
        let none = try refusal([])
        #expect(none?.contains("taken with 2 disks") == true, "\(none ?? "restored")")
        let swapped = try refusal([storages[1], storages[0]])
        #expect(swapped?.contains("disk 1 of 2") == true, "\(swapped ?? "restored")")
        let changed = Self.storages(2)
        try changed[1].writeSectors(at: 1, [UInt8](repeating: 7, count: 512))
        let differs = try refusal(changed)
        #expect(differs?.contains("disk 2 of 2: its contents differ") == true, "\(differs ?? "restored")")
        // A snapshot without disks refuses a machine with some.
        let diskless = try Self.machine([]).saveSnapshot()
        let target = try Self.machine(Self.storages(1))
        #expect(throws: SnapshotError.self) { try target.restoreSnapshot(diskless) }
    }

    /// A snapshot of format 3 (one disk at most: a presence flag where format 4 has a count; no
    /// MAC address) still reads and restores.
    @Test func aFormat3SnapshotStillRestores() throws {
        for count in [0, 1] {
            let machine = try Self.machine(Self.storages(count))
            let current = try machine.saveSnapshot()
            let old = Self.format3(current)
            let info = try SnapshotInfo(old)
            #expect(info.formatVersion == 3 && info.disks.count == count)
            let restored = try Self.machine(Self.storages(count))
            try restored.restoreSnapshot(old)
            #expect(restored.stateHash() == machine.stateHash())
            // ... and refuses a machine with another number of disks, as before.
            let other = try Self.machine(Self.storages(1 - count))
            #expect(throws: SnapshotError.self) { try other.restoreSnapshot(old) }
        }
    }

    /// `snapshot` (format 5, at most one disk) as format 3 wrote it: format 4's (no MAC address),
    /// version 3, and the DISK payload's u32 count replaced by a u8 presence flag (with zeros for
    /// no disk).
    static func format3(_ snapshot: [UInt8]) -> [UInt8] {
        var bytes = LegacySnapshot.withVersion(LegacySnapshot.format4(snapshot), 3)
        let disk = SnapshotCorruptionTests.sections(bytes).first { $0.tag == "DISK" }!
        let count = bytes[disk.payload.lowerBound]
        let payload = count == 0 ? [UInt8](repeating: 0, count: 18) : [1] + Array(bytes[(disk.payload.lowerBound + 4)..<disk.payload.upperBound])
        bytes.replaceSubrange(disk.payload, with: payload)
        LegacySnapshot.setLength(&bytes, checksumAt: disk.checksumAt, payload.count)
        SnapshotCorruptionTests.fixChecksum(&bytes, checksumAt: disk.checksumAt, payload: disk.payload.lowerBound..<(disk.payload.lowerBound + payload.count))
        return bytes
    }
}
