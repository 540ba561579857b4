import Machine
import Testing

/// The disk part of a state digest: one content digest per disk, in the machine's order, named by
/// its place when it differs ("disk 2 of 2"); a digest that does not cover the disks (a checkpoint
/// of an event log of format 4 or older) does not compare them.
@Suite struct StateDigestDiskTests {
    static func digest(disks: [UInt64]?) -> StateDigest {
        StateDigest(instructionCount: 100, parts: [.init(name: "registers", hash: 1)], regionSize: 4096, ramBase: 0x8000_0000,
                    regions: [2], disks: disks)
    }

    @Test func eachDiskThatDiffersIsNamedByItsPlace() {
        #expect(Self.digest(disks: [1, 2]).differences(from: Self.digest(disks: [1, 2])) == nil)
        #expect(Self.digest(disks: [1, 2]).differences(from: Self.digest(disks: [1, 3]))?.parts == ["disk 2 of 2"])
        #expect(Self.digest(disks: [1, 2]).differences(from: Self.digest(disks: [4, 3]))?.parts == ["disk 1 of 2", "disk 2 of 2"])
        #expect(Self.digest(disks: [1, 2]).differences(from: Self.digest(disks: [4, 3]))?.description == "disk 1 of 2; disk 2 of 2")
        #expect(Self.digest(disks: []).differences(from: Self.digest(disks: [])) == nil)
    }

    @Test func anotherNumberOfDisksIsSaid() {
        #expect(Self.digest(disks: [1]).differences(from: Self.digest(disks: [1, 2]))?.parts
                == ["the list of disks (1 disk against 2 disks)"])
        #expect(Self.digest(disks: [1]).differences(from: Self.digest(disks: nil))?.parts
                == ["the list of disks (1 disk against no disk digests)"])
    }

    /// An expected digest without the disk part compares everything else, whatever the disks.
    @Test func aDigestThatDoesNotCoverTheDisksComparesTheRest() {
        #expect(Self.digest(disks: nil).differences(from: Self.digest(disks: [1, 2])) == nil)
        #expect(Self.digest(disks: nil).differences(from: Self.digest(disks: nil)) == nil)
        var other = Self.digest(disks: [7])
        other.regions = [3]
        #expect(Self.digest(disks: nil).differences(from: other)?.ramRanges == [0x8000_0000..<0x8000_1000])
        #expect(Self.digest(disks: nil).differences(from: other)?.parts == [])
    }

    /// A machine's digest holds each disk's content digest; two machines whose second disks hold
    /// different bytes (the same size) differ in that disk only.
    @Test func aMachinesDigestCoversEachDisk() throws {
        func machine(secondByte: UInt8) throws -> Machine {
            var second = [UInt8](repeating: 0, count: 32 * 512)
            second[9000] = secondByte
            return try Machine(configuration: MachineConfiguration(memorySize: 1 << 20),
                               disks: [MemoryBlockStorage(sectorCount: 64), MemoryBlockStorage(contents: second)])
        }
        let a = try machine(secondByte: 0), b = try machine(secondByte: 1)
        let digests = try a.disks.map { try $0.contentDigest() }
        #expect(a.stateDigest().disks == digests)
        #expect(a.stateDigest().differences(from: try machine(secondByte: 0).stateDigest()) == nil)
        #expect(a.stateDigest().differences(from: b.stateDigest())?.parts == ["disk 2 of 2"])
        #expect(try Machine(configuration: MachineConfiguration(memorySize: 1 << 20)).stateDigest().disks == [])
    }
}
