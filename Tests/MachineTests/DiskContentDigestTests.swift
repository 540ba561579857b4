import Machine
import Testing

/// The disk digest kept up to date by writes equals the digest of the same contents read from
/// scratch, and changes with any byte.
@Suite struct DiskContentDigestTests {
    @Test func incrementalEqualsFromScratch() throws {
        let storage = MemoryBlockStorage(sectorCount: 1000)   // not a whole number of 4 KiB chunks
        var digest = DiskContentDigest()
        let empty = try digest.value(of: storage)
        var generator: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            generator = generator &* 6364136223846793005 &+ 1442695040888963407
            return generator >> 33
        }
        var values: Set<UInt64> = [empty]
        for _ in 0..<200 {
            let sector = next() % 990
            let count = Int(next() % 10) + 1
            let data = (0..<(count * 512)).map { _ in UInt8(truncatingIfNeeded: next()) }
            try storage.writeSectors(at: sector, data)
            try digest.noteWritten(storage, sector: sector, count: count)
            var fresh = DiskContentDigest()
            #expect(try digest.value(of: storage) == fresh.value(of: storage))
            values.insert(try digest.value(of: storage))
        }
        #expect(values.count == 201)
        // One byte of the last sector (a short chunk) changes it.
        var bytes = try storage.readSectors(at: 999, count: 1)
        bytes[511] ^= 1
        try storage.writeSectors(at: 999, bytes)
        let before = try digest.value(of: storage)
        try digest.noteWritten(storage, sector: 999, count: 1)
        #expect(try digest.value(of: storage) != before)
    }

    @Test func theStateHashCoversTheDisk() throws {
        let a = MemoryBlockStorage(sectorCount: 64), b = MemoryBlockStorage(sectorCount: 64)
        try b.writeSectors(at: 63, [UInt8](repeating: 1, count: 512))
        let first = try Machine(disk: a), second = try Machine(disk: b)
        #expect(first.stateHash() != second.stateHash())
        #expect(try first.stateHash() == Machine(disk: MemoryBlockStorage(sectorCount: 64)).stateHash())
    }
}
