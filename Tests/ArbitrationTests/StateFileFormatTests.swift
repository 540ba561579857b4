@testable import Arbitration
import Testing

/// The state file format: what it stores comes back, and no damage goes unnoticed.
@Suite struct StateFileFormatTests {
    let table = ClaimTable(entries: [
        "web": .init(generation: 3, owner: "host-b"),
        "db": .init(generation: 1, owner: "host-a"),
        "ünïcode vm": .init(generation: UInt64.max, owner: String(repeating: "o", count: 255)),
    ])

    @Test func aTableComesBackAsItWasStoredWithOneEncoding() throws {
        let bytes = StateFileFormat.encode(table)
        #expect(try StateFileFormat.decode(bytes, path: "state") == table)
        #expect(StateFileFormat.encode(try StateFileFormat.decode(bytes, path: "state")) == bytes)
        #expect(try StateFileFormat.decode(StateFileFormat.encode(ClaimTable()), path: "state") == ClaimTable())
        #expect(Array(bytes.prefix(9)) == Array("LSARBITR".utf8) + [1])
    }

    @Test func everyFlippedBitAndEveryTruncationIsDetected() {
        let bytes = StateFileFormat.encode(table)
        for index in bytes.indices {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= 1 << bit
                #expect(throws: ArbitrationError.self, "bit \(bit) of byte \(index)") { try StateFileFormat.decode(damaged, path: "state") }
            }
        }
        for length in 0..<bytes.count {
            #expect(throws: ArbitrationError.self, "truncated to \(length)") { try StateFileFormat.decode(Array(bytes[..<length]), path: "state") }
        }
    }

    @Test func bytesAfterTheChecksumAreIgnored() throws {
        // What a shorter in-place rewrite leaves when it is interrupted before the truncation.
        let bytes = StateFileFormat.encode(table) + [1, 2, 3]
        #expect(try StateFileFormat.decode(bytes, path: "state") == table)
    }

    @Test func aWellSignedButInvalidTableIsRefused() {
        // A duplicate VM or a generation 0 with a valid checksum: written by something else.
        #expect(throws: ArbitrationError.corruptStateFile(path: "p", detail: "an entry with an invalid name or generation 0")) {
            try StateFileFormat.decode(StateFileFormat.encode(ClaimTable(entries: ["vm": .init(generation: 0, owner: "a")])), path: "p")
        }
    }
}
