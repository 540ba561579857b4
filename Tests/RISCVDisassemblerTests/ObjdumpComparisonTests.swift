import Testing
import RISCVDisassembler

/// Compares our disassembly with GNU objdump's, instruction by instruction.
@Suite struct ObjdumpComparisonTests {
    /// Every compressed encoding.
    @Test func everyCompressedEncodingMatchesObjdump() throws {
        let encodings = EncodingCorpus.allCompressed()
        var binary: [UInt8] = []
        binary.reserveCapacity(encodings.count * 2)
        for halfword in encodings {
            binary.append(UInt8(truncatingIfNeeded: halfword))
            binary.append(UInt8(truncatingIfNeeded: halfword >> 8))
        }
        try compare(encodings.map { (UInt32($0), 2) }, binary: binary, covering: RequiredMnemonics.compressed)
    }

    /// Every major opcode × funct3 × funct7 with random operands, every CSR and fence set,
    /// and random words.
    @Test func thirtyTwoBitEncodingsMatchObjdump() throws {
        var generator = SplitMix64(seed: 0x4c6f_636b_7374_6570) // "Lockstep"
        let encodings = EncodingCorpus.thirtyTwoBit(randomWords: 20_000, using: &generator)
        var binary: [UInt8] = []
        binary.reserveCapacity(encodings.count * 4)
        for word in encodings {
            for shift in stride(from: 0, to: 32, by: 8) {
                binary.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
            }
        }
        try compare(encodings.map { ($0, 4) }, binary: binary, covering: RequiredMnemonics.thirtyTwoBit)
    }

    /// Disassembles `binary` (the concatenation of `encodings`) with objdump and compares each
    /// instruction's text with ours at the same pc; also checks that objdump printed every
    /// mnemonic in `required` somewhere, so that the corpus covers every instruction.
    private func compare(
        _ encodings: [(bits: UInt32, length: Int)], binary: [UInt8], covering required: Set<String>
    ) throws {
        guard let objdump = ObjdumpReference.locate() else { return }
        let lines = try objdump.disassemble(binary)
        let version = (try? objdump.version()) ?? "unknown version"

        // objdump must have split the binary exactly as we did.
        try #require(lines.count == encodings.count, """
            objdump (\(version)) listed \(lines.count) instructions for \(encodings.count) encodings
            """)

        var address: UInt64 = 0
        var mismatches: [String] = []
        var seen: Set<String> = []
        for (line, encoding) in zip(lines, encodings) {
            let width = encoding.length * 2
            let hex = String(encoding.bits, radix: 16)
            let expectedHex = String(repeating: "0", count: max(0, width - hex.count)) + hex
            try #require(line.address == address && line.rawHex == expectedHex, """
                objdump is out of step at 0x\(String(address, radix: 16)): it shows \
                \(line.rawHex) at 0x\(String(line.address, radix: 16)), we wrote \(expectedHex)
                """)
            if let mnemonic = line.text.split(separator: " ").first { seen.insert(String(mnemonic)) }
            let ours = RISCVDisassembler.disassemble(encoding.bits, pc: address)
            if ours != line.text {
                mismatches.append("""
                    encoding 0x\(expectedHex) at pc 0x\(String(address, radix: 16)): \
                    objdump "\(line.original)" (normalised "\(line.text)"), ours "\(ours)"
                    """)
            }
            address += UInt64(encoding.length)
        }

        let missing = required.subtracting(seen).sorted()
        #expect(missing.isEmpty, "the corpus never made objdump print: \(missing.joined(separator: " "))")

        let shown = 40
        for mismatch in mismatches.prefix(shown) {
            Issue.record(Comment(rawValue: mismatch))
        }
        #expect(mismatches.isEmpty, """
            \(mismatches.count) of \(encodings.count) encodings disassemble differently from \
            objdump (\(version))\(mismatches.count > shown ? "; the first \(shown) are listed" : "")
            """)
    }
}
