import Testing
import RISCVDisassembler

/// Hand-written examples and robustness checks that do not need objdump.
@Suite struct DisassemblerTests {
    @Test(arguments: [
        (UInt32(0x0000_0013), UInt64(0), "addi zero,zero,0"),
        (0x02c5_9553, 0, "fadd.d fa0,fa1,fa2,rtz"),
        (0x02c5_f553, 0, "fadd.d fa0,fa1,fa2"),
        (0x3405_9573, 0, "csrrw a0,mscratch,a1"),
        (0x06c5_a52f, 0, "amoadd.w.aqrl a0,a2,(a1)"),
        (0x1405_b52f, 0, "lr.d.aq a0,(a1)"),
        (0x0ff0_000f, 0, "fence iorw,iorw"),
        (0x00b5_0463, 0x1000, "beq a0,a1,0x1008"),
        (0xfe00_0ee3, 0x1000, "beq zero,zero,0xffc"),
        (0x0000_0073, 0, "ecall"),
        (0x3020_0073, 0, "mret"),
        (0x1050_0073, 0, "wfi"),
        (0x12b5_0073, 0, "sfence.vma a0,a1"),
        (0x0000_100f, 0, "fence.i"),
        (0x0000_0505, 0, "c.addi a0,1"),
        (0x0000_8082, 0, "c.jr ra"),
        (0x0000_0000, 0, "c.unimp"),
        (0x0000_a001, 0x100, "c.j 0x100"),
        (0x0000_ffff, 0, "unknown"),       // low bits 0b11: a 32-bit word, major opcode 0x7f
        (0x0000_0001, 0, "c.addi zero,0"), // high half ignored for compressed
        (0xdead_0001, 0, "c.addi zero,0"),
    ])
    func knownEncodings(bits: UInt32, pc: UInt64, expected: String) {
        #expect(RISCVDisassembler.disassemble(bits, pc: pc) == expected,
                "0x\(String(bits, radix: 16)) at pc 0x\(String(pc, radix: 16))")
    }

    @Test func lengths() {
        #expect(RISCVDisassembler.length(ofInstructionStartingWith: 0x0013) == 4)
        #expect(RISCVDisassembler.length(ofInstructionStartingWith: 0x4501) == 2)
        #expect(RISCVDisassembler.length(ofInstructionStartingWith: 0x0000) == 2)
        #expect(RISCVDisassembler.length(ofInstructionStartingWith: 0xffff) == 4)
        for low16 in 0...UInt16.max {
            #expect(RISCVDisassembler.length(ofInstructionStartingWith: low16) == (low16 & 3 == 3 ? 4 : 2))
        }
    }

    /// The major opcodes that begin 48-bit and longer encodings are not RV64GC instructions.
    @Test func longEncodingOpcodesAreUnknown() {
        var generator = SplitMix64(seed: 1)
        for _ in 0..<4096 {
            let word = UInt32.random(in: 0...UInt32.max, using: &generator) | 0x1f
            #expect(RISCVDisassembler.disassemble(word, pc: 0) == "unknown")
        }
    }

    /// Every input returns text: all 16-bit values, extreme pcs and a million random words.
    @Test func neverCrashes() {
        for value in 0...UInt32(UInt16.max) {
            #expect(!RISCVDisassembler.disassemble(value, pc: UInt64.max).isEmpty)
        }
        var generator = SplitMix64(seed: 2)
        for _ in 0..<200_000 {
            let word = UInt32.random(in: 0...UInt32.max, using: &generator)
            let pc = UInt64.random(in: 0...UInt64.max, using: &generator)
            #expect(!RISCVDisassembler.disassemble(word, pc: pc).isEmpty)
        }
    }
}
