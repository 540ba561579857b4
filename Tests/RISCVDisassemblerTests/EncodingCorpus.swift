/// The instruction encodings compared against objdump.
enum EncodingCorpus {
    /// Every 16-bit compressed encoding (all values whose low two bits are not 0b11).
    static func allCompressed() -> [UInt16] {
        (0...UInt16.max).filter { $0 & 0b11 != 0b11 }
    }

    /// 32-bit encodings: for every major opcode, funct3 and funct7 (bits 31:25, which also
    /// hold funct5/aq/rl, fmt, shift types and the high immediate bits) four words with
    /// random other fields — one fully random, one with rd = rs1 = rs2 = 0 (to hit exact
    /// encodings such as `ecall`), two with rs2 < 4 (the operation selector of `fcvt`: once
    /// funct3 & 3, so that every selector occurs, once random) — plus every CSR, every fence
    /// set, the fixed privileged encodings and random words.
    ///
    /// Major opcodes whose low five bits are all ones introduce 48-bit and longer encodings,
    /// which objdump would read as such; they are excluded here and checked separately.
    static func thirtyTwoBit(randomWords: Int, using generator: inout SplitMix64) -> [UInt32] {
        var words: [UInt32] = []
        for majorOpcode in UInt32(0)..<32 where majorOpcode & 0b111 != 0b111 {
            let opcode = majorOpcode << 2 | 0b11
            for funct3 in UInt32(0)..<8 {
                for funct7 in UInt32(0)..<128 {
                    let fixed = funct7 << 25 | funct3 << 12 | opcode
                    let random = UInt32.random(in: 0...UInt32.max, using: &generator)
                    let operandBits: UInt32 = 0x01ff_8f80 // rs2, rs1 and rd
                    words.append(fixed | random & operandBits)
                    words.append(fixed)
                    words.append(fixed | random & 0x000f_8f80 | (funct3 & 3) << 20)
                    words.append(fixed | random & 0x000f_8f80 | (random >> 27) << 20 & 0x0030_0000)
                }
            }
        }
        // Every CSR number with each Zicsr instruction in turn (register and immediate forms).
        for csr in UInt32(0)..<4096 {
            let funct3 = [1, 2, 3, 5, 6, 7][Int(csr % 6)] as UInt32
            let random = UInt32.random(in: 0...UInt32.max, using: &generator)
            words.append(csr << 20 | random & 0x000f_8f80 | funct3 << 12 | 0x73)
            words.append(csr << 20 | 0x2073) // csrrs zero,csr,zero
        }
        // Every fence predecessor/successor pair, with fm = 0 and fm = 8 (TSO).
        for sets in UInt32(0)..<256 {
            words.append(sets << 20 | 0x0f)
            words.append(0x8 << 28 | sets << 20 | 0x0f)
        }
        words += fixedEncodings
        for _ in 0..<randomWords {
            var word = UInt32.random(in: 0...UInt32.max, using: &generator) | 0b11
            if word & 0x1f == 0x1f { word &= ~0x4 } // keep it a 32-bit encoding
            words.append(word)
        }
        return words
    }

    /// Exact encodings of operand-less and privileged instructions, and neighbours of them.
    static let fixedEncodings: [UInt32] = [
        0x0000_0073, // ecall
        0x0010_0073, // ebreak
        0x0020_0073, // uret (not in the privileged spec any more)
        0x1020_0073, // sret
        0x3020_0073, // mret
        0x7b20_0073, // dret
        0x1050_0073, // wfi
        0x1200_0073, // sfence.vma zero,zero
        0x12b5_0073, // sfence.vma a0,a1
        0x12b5_0173, // sfence.vma with rd != 0
        0x0000_100f, // fence.i
        0x0010_100f, // fence.i with imm != 0
        0x8330_000f, // fence.tso
        0x0ff0_000f, // fence iorw,iorw
        0x0100_000f, // pause (fence w,0)
        0xc000_1073, // unimp (csrrw zero,cycle,zero)
        0xc000_2073, // csrrs zero,cycle,zero
        0x0000_0013, // addi zero,zero,0
        0x0000_0003, // lb zero,0(zero): the all-zero 32-bit word
        0xffff_ff73, // SYSTEM with every other bit set
    ]
}

/// A small, fast, seeded random number generator, so that failures are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
