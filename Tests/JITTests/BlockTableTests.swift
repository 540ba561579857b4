@testable import JIT
import Testing

/// The block table's sets of two: blocks whose RAM offsets hash to one set both stay, a third
/// replaces the one in the second way, a block translated again replaces itself, and a stale
/// version is no hit.
@Suite struct BlockTableTests {
    /// Three RAM offsets (of 2-byte parcels) in the set of `start`, found by search.
    static func collidingOffsets(from start: UInt64 = 0x1234) -> [UInt64] {
        let set = BlockTable.entryOffset(ramOffset: start)
        var found = [start]
        var offset = start
        while found.count < 3 {
            offset += 2
            if BlockTable.entryOffset(ramOffset: offset) == set { found.append(offset) }
        }
        return found
    }

    @Test func twoBlocksOfOneSetStayAndAThirdReplacesTheSecondWay() {
        let table = BlockTable()
        defer { table.deallocate() }
        let offsets = Self.collidingOffsets()
        let pcs = offsets.map { 0xFFFF_FFFF_8000_0000 + $0 }
        table.record(ramOffset: offsets[0], pc: pcs[0], version: 1, code: 0x1000)
        table.record(ramOffset: offsets[1], pc: pcs[1], version: 1, code: 0x2000)
        #expect(table.code(ramOffset: offsets[0], pc: pcs[0], version: 1) == 0x1000)
        #expect(table.code(ramOffset: offsets[1], pc: pcs[1], version: 1) == 0x2000)
        // The same block again (a new version) replaces itself: the other stays.
        table.record(ramOffset: offsets[0], pc: pcs[0], version: 2, code: 0x3000)
        #expect(table.code(ramOffset: offsets[0], pc: pcs[0], version: 1) == nil, "a stale version is no hit")
        #expect(table.code(ramOffset: offsets[0], pc: pcs[0], version: 2) == 0x3000)
        #expect(table.code(ramOffset: offsets[1], pc: pcs[1], version: 1) == 0x2000)
        // A third: the first way's block moves to the second, whose block (the first one
        // recorded, translated again in its place) goes.
        table.record(ramOffset: offsets[2], pc: pcs[2], version: 1, code: 0x4000)
        #expect(table.code(ramOffset: offsets[2], pc: pcs[2], version: 1) == 0x4000)
        #expect(table.code(ramOffset: offsets[1], pc: pcs[1], version: 1) == 0x2000)
        #expect(table.code(ramOffset: offsets[0], pc: pcs[0], version: 2) == nil)
        // Another pc at the same RAM offset (a second mapping of the page) is another block.
        #expect(table.code(ramOffset: offsets[2], pc: pcs[2] + 0x1000_0000, version: 1) == nil)
    }
}
