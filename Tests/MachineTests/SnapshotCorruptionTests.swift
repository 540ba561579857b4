import HostIO
import Foundation
import Machine
import RISCV
import Testing

/// Damaged, truncated, foreign and mismatched snapshots give typed errors that say where and what,
/// never a crash, and a refused snapshot leaves the machine as it was.
@Suite struct SnapshotCorruptionTests {
    static let configuration = MachineConfiguration(memorySize: 4 << 20, entropySeed: 1)

    /// A machine running the virtio guest (disk, entropy, PLIC, UART in use) and its snapshot
    /// in the middle of the device phase.
    static func sample() throws -> (machine: Machine, snapshot: [UInt8]) {
        let machine = try Machine(configuration: configuration, disk: MemoryBlockStorage(contents: VirtioGuestTests.diskImage))
        try machine.load(elfAt: try Repository.guest("virtio"))
        #expect(machine.run(instructionLimit: samplePoint) == .instructionLimit)
        return (machine, try machine.saveSnapshot())
    }

    /// Where the sample is taken: half-way through the guest, after it wrote to the disk.
    static let samplePoint: UInt64 = 20_000

    /// The disk's contents at the sample point.
    static var sampleDisk: [UInt8] {
        get throws { (try sample().machine.disk!.storage as! MemoryBlockStorage).bytes }
    }

    /// A machine with the sample's configuration and disk.
    static func blank() throws -> Machine {
        try Machine(configuration: configuration, disk: MemoryBlockStorage(contents: try sampleDisk))
    }

    /// A machine in a known state to restore damaged snapshots onto.
    static func target() throws -> Machine {
        let (machine, _) = try sample()
        return machine
    }

    /// A deterministic random sequence (SplitMix64) so that failures can be reproduced.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// The sections of a snapshot file: (tag, range of the section header and payload, payload range).
    static func sections(_ bytes: [UInt8]) -> [(tag: String, payload: Range<Int>, checksumAt: Int)] {
        var result: [(String, Range<Int>, Int)] = []
        var offset = 20
        while offset + 16 <= bytes.count {
            let tag = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let length = (0..<8).reduce(0) { $0 | Int(bytes[offset + 4 + $1]) << (8 * $1) }
            result.append((tag, offset + 16..<offset + 16 + length, offset + 12))
            offset += 16 + length
        }
        return result
    }

    static func fixChecksum(_ bytes: inout [UInt8], checksumAt: Int, payload: Range<Int>) {
        let crc = CRC32.checksum(Array(bytes[payload]))
        for i in 0..<4 { bytes[checksumAt + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    }

    @Test func theSampleRestores() throws {
        let (machine, snapshot) = try Self.sample()
        let names = Self.sections(snapshot).map(\.tag)
        #expect(names == ["CONF", "DISK", "BOOT", "MACH", "HART", "CLNT", "PLIC", "UART", "VIRT", "RAM ", "END "])
        let info = try SnapshotInfo(snapshot)
        #expect(info.kind == .full && info.configuration == Self.configuration && info.instructionCount == Self.samplePoint)
        let copy = try Self.blank()
        try copy.restoreSnapshot(snapshot)
        #expect(copy.stateHash() == machine.stateHash())
    }

    @Test func flippedBytesAreDetected() throws {
        let (_, snapshot) = try Self.sample()
        let target = try Self.target()
        let hash = target.stateHash()
        var random = Random(state: 1)
        for iteration in 0..<300 {
            var damaged = snapshot
            for _ in 0...random.below(3) {
                damaged[random.below(damaged.count)] ^= UInt8(1 + random.below(255))
            }
            do {
                try target.restoreSnapshot(damaged)
                Issue.record("iteration \(iteration): a damaged snapshot was accepted")
            } catch {
                switch error {
                case .checksumMismatch, .notASnapshot, .unsupportedVersion, .unexpectedSection, .truncated, .trailingBytes, .invalidValue:
                    break
                default:
                    Issue.record("iteration \(iteration): unexpected error \(error)")
                }
                #expect(!error.description.isEmpty)
            }
        }
        #expect(target.stateHash() == hash, "a refused snapshot changed the machine")
    }

    @Test func truncationsAreDetectedWithTheirOffset() throws {
        let (_, snapshot) = try Self.sample()
        let target = try Self.target()
        let hash = target.stateHash()
        var random = Random(state: 2)
        var lengths = (0..<300).map { _ in random.below(snapshot.count) }
        // Every section boundary and the bytes around it, too.
        for section in Self.sections(snapshot) {
            for length in [section.payload.lowerBound - 16, section.payload.lowerBound - 1, section.payload.lowerBound,
                           section.payload.upperBound - 1] where length >= 0 && length < snapshot.count {
                lengths.append(length)
            }
        }
        for length in lengths {
            do {
                try target.restoreSnapshot(Array(snapshot[..<length]))
                Issue.record("truncated to \(length) bytes and accepted")
            } catch {
                guard case .truncated(let offset, let expected, let needed, let available) = error else {
                    Issue.record("truncated to \(length) bytes: expected .truncated, got \(error)")
                    continue
                }
                #expect(offset <= length && available == length - offset && needed > available, "\(error)")
                #expect(!expected.isEmpty)
            }
        }
        #expect(target.stateHash() == hash)
    }

    /// Random damage to the machine-state sections with their checksums recomputed, as a buggy
    /// or hostile writer would produce: every field is checked, so the restore either works or
    /// throws, and a machine restored from such a file can be snapshotted again.
    @Test func damagedFieldsWithValidChecksumsNeverCrash() throws {
        let (_, snapshot) = try Self.sample()
        let target = try Self.target()
        let hash = target.stateHash()
        let sections = Self.sections(snapshot).filter { ["BOOT", "MACH", "HART", "CLNT", "PLIC", "UART", "VIRT", "DISK", "CONF"].contains($0.tag) }
        var random = Random(state: 3)
        var accepted = 0, refused = 0
        for _ in 0..<300 {
            var damaged = snapshot
            let section = sections[random.below(sections.count)]
            guard !section.payload.isEmpty else { continue }
            for _ in 0...random.below(2) {
                let at = section.payload.lowerBound + random.below(section.payload.count)
                // Small changes (flags, counts) as well as arbitrary ones.
                damaged[at] = random.below(2) == 0 ? damaged[at] ^ 1 : UInt8(random.below(256))
            }
            Self.fixChecksum(&damaged, checksumAt: section.checksumAt, payload: section.payload)
            let machine = try Self.blank()
            do {
                try machine.restoreSnapshot(damaged)
                accepted += 1
                // Whatever was accepted is a state the machine can save and restore again.
                let again = try machine.saveSnapshot()
                let copy = try Self.blank()
                try copy.restoreSnapshot(again)
                #expect(copy.stateHash() == machine.stateHash())
            } catch {
                refused += 1
                #expect(error is SnapshotError, "\(error)")
            }
            // Refused on a machine in use: nothing changed (the devices restored before the bad
            // field was found are rolled back).
            do {
                try target.restoreSnapshot(damaged)
                try target.restoreSnapshot(snapshot)
            } catch {
                #expect(target.stateHash() == hash, "refused (\(error)) but the machine changed")
            }
        }
        #expect(accepted > 0 && refused > 0)
    }

    @Test func foreignFilesAreNotSnapshots() throws {
        let target = try Self.target()
        let elf = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Repository.guest("hello"))))
        #expect(throws: SnapshotError.notASnapshot) { try target.restoreSnapshot(elf) }
        #expect(throws: SnapshotError.notASnapshot) { try target.restoreSnapshot(Array("hello, world".utf8)) }
        #expect(throws: SnapshotError.truncated(offset: 0, expected: "the snapshot magic", needed: 8, available: 0)) {
            try target.restoreSnapshot([])
        }
        #expect(throws: SnapshotError.truncated(offset: 0, expected: "the snapshot magic", needed: 8, available: 4)) {
            try target.restoreSnapshot(Array("LOCK".utf8))
        }
        #expect(throws: SnapshotError.truncated(offset: 8, expected: "the format version", needed: 4, available: 0)) {
            try target.restoreSnapshot(Array("LOCKSNAP".utf8))
        }
        // A future version.
        var future = try Self.sample().snapshot
        future[8] = 6
        #expect(throws: SnapshotError.unsupportedVersion(found: 6, supported: 5)) { try target.restoreSnapshot(future) }
        #expect(throws: SnapshotError.unsupportedVersion(found: 6, supported: 5)) { try SnapshotInfo(future) }
        // Version 2, before the boot image: refused with the versions named, the machine unchanged.
        var older = try Self.sample().snapshot
        older[8] = 2
        let before = target.stateHash()
        #expect(throws: SnapshotError.unsupportedVersion(found: 2, supported: 5)) { try target.restoreSnapshot(older) }
        #expect(throws: SnapshotError.unsupportedVersion(found: 2, supported: 5)) { try SnapshotInfo(older) }
        #expect(target.stateHash() == before)
        #expect(SnapshotError.unsupportedVersion(found: 2, supported: 5).description.contains("version 2 is not supported (this build writes version 5 and reads versions 3 to 5)"))
    }

    @Test func trailingBytesAreRefused() throws {
        let (_, snapshot) = try Self.sample()
        let target = try Self.target()
        #expect(throws: SnapshotError.trailingBytes(offset: snapshot.count, what: "the END section", count: 3)) {
            try target.restoreSnapshot(snapshot + [0, 0, 0])
        }
    }

    @Test func anotherConfigurationIsRefused() throws {
        let (_, snapshot) = try Self.sample()
        let bigger = try Machine(configuration: MachineConfiguration(memorySize: 8 << 20, entropySeed: 1),
                                 disk: MemoryBlockStorage(contents: VirtioGuestTests.diskImage))
        #expect(throws: SnapshotError.configurationMismatch(field: "memory size", snapshot: 4 << 20, machine: 8 << 20)) {
            try bigger.restoreSnapshot(snapshot)
        }
        let otherSeed = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20, entropySeed: 9),
                                    disk: MemoryBlockStorage(contents: VirtioGuestTests.diskImage))
        #expect(throws: SnapshotError.configurationMismatch(field: "entropySeed", snapshot: 1, machine: 9)) {
            try otherSeed.restoreSnapshot(snapshot)
        }
        let slowerClock = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20, instructionsPerTick: 100, entropySeed: 1),
                                      disk: MemoryBlockStorage(contents: VirtioGuestTests.diskImage))
        #expect(throws: SnapshotError.configurationMismatch(field: "instructionsPerTick", snapshot: 50, machine: 100)) {
            try slowerClock.restoreSnapshot(snapshot)
        }
    }

    @Test func anotherDiskIsRefused() throws {
        let (machine, snapshot) = try Self.sample()
        let hash = machine.stateHash()
        func attempt(_ disk: (any BlockStorage)?) throws -> SnapshotError? {
            let target = try Machine(configuration: Self.configuration, disk: disk)
            do { try target.restoreSnapshot(snapshot) } catch { return error }
            return nil
        }
        let disk = try Self.sampleDisk
        var changed = disk
        changed[12345] ^= 1
        for (disk, what) in [(nil, "none"), (MemoryBlockStorage(contents: changed), "contents"),
                             (MemoryBlockStorage(sectorCount: 65), "size"),
                             (MemoryBlockStorage(contents: disk, readOnly: true), "read-only")] as [((any BlockStorage)?, String)] {
            let error = try attempt(disk)
            guard case .diskMismatch(let why)? = error else {
                Issue.record("disk \(what): expected diskMismatch, got \(String(describing: error))")
                continue
            }
            #expect(!why.isEmpty)
        }
        #expect(try attempt(MemoryBlockStorage(contents: disk)) == nil)
        // A snapshot without a disk does not restore onto a machine with one.
        let diskless = try Machine(configuration: Self.configuration)
        try diskless.load(elfAt: try Repository.guest("hello"))
        let plain = try diskless.saveSnapshot()
        let withDisk = try Machine(configuration: Self.configuration, disk: MemoryBlockStorage(sectorCount: 8))
        #expect(throws: SnapshotError.self) { try withDisk.restoreSnapshot(plain) }
        #expect(machine.stateHash() == hash)
    }

    @Test func incrementalSnapshotsNeedTrackingAndTheirBase() throws {
        let (machine, base) = try Self.sample()
        #expect(throws: SnapshotError.dirtyTrackingNotStarted) { try machine.saveIncrementalSnapshot() }
        machine.startDirtyTracking()
        machine.memory.stopDirtyTracking()   // behind the machine's back
        #expect(throws: SnapshotError.dirtyTrackingNotStarted) { try machine.saveIncrementalSnapshot() }
        machine.startDirtyTracking()
        _ = machine.run(instructionLimit: Self.samplePoint + 3_000)
        let incremental = try machine.saveIncrementalSnapshot()
        #expect(try SnapshotInfo(incremental).kind == .incremental)

        // Onto a machine that is not at the base: refused, unchanged.
        let fresh = try Machine(configuration: Self.configuration, disk: MemoryBlockStorage(contents: try Self.sampleDisk))
        let freshHash = fresh.stateHash()
        #expect(throws: SnapshotError.baseMismatch("it applies to the machine at instruction 20000, this machine is at instruction 0")) {
            try fresh.restoreSnapshot(incremental)
        }
        #expect(fresh.stateHash() == freshHash)
        try fresh.restoreSnapshot(base)
        try fresh.restoreSnapshot(incremental)
        #expect(fresh.stateHash() == machine.stateHash())
    }
}
