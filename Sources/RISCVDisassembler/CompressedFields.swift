/// The fields and immediates of a 16-bit compressed (C extension) instruction.
struct CompressedFields {
    let bits: UInt16

    init(_ bits: UInt16) { self.bits = bits }

    /// Bit `n` of the instruction, as an `Int`.
    private func bit(_ n: Int) -> Int { Int((bits >> UInt16(n)) & 1) }

    /// Bits `high...low` of the instruction, as an `Int`.
    private func field(_ high: Int, _ low: Int) -> Int {
        Int((bits >> UInt16(low)) & UInt16((1 << (high - low + 1)) - 1))
    }

    /// Bits 1:0.
    var quadrant: Int { field(1, 0) }
    /// Bits 15:13.
    var funct3: Int { field(15, 13) }
    /// Bits 11:7: rd, or rs1 equal to rd.
    var rd: Int { field(11, 7) }
    /// Bits 6:2: rs2.
    var rs2: Int { field(6, 2) }
    /// Bits 9:7: the three-bit rs1'/rd' field (register x8 + this).
    var rs1Prime: Int { field(9, 7) }
    /// Bits 4:2: the three-bit rs2'/rd' field (register x8 + this).
    var rs2Prime: Int { field(4, 2) }
    /// Bit 12.
    var bit12: Int { bit(12) }
    /// Bits 11:10.
    var funct2High: Int { field(11, 10) }
    /// Bits 6:5.
    var funct2Low: Int { field(6, 5) }

    /// CI-format immediate imm[5] = bit 12, imm[4:0] = bits 6:2, sign-extended.
    var ciImmediate: Int {
        let raw = bit12 << 5 | field(6, 2)
        return raw >= 32 ? raw - 64 : raw
    }

    /// CI-format immediate, unsigned six bits (shift amounts).
    var ciUnsigned: Int { bit12 << 5 | field(6, 2) }

    /// c.addi4spn: nzuimm[5:4|9:6|2|3] in bits 12:5.
    var addi4spnImmediate: Int {
        field(12, 11) << 4 | field(10, 7) << 6 | bit(6) << 2 | bit(5) << 3
    }

    /// c.addi16sp: nzimm[9] = bit 12, nzimm[4|6|8:7|5] in bits 6:2, sign-extended.
    var addi16spImmediate: Int {
        let raw = bit12 << 9 | bit(6) << 4 | bit(5) << 6 | field(4, 3) << 7 | bit(2) << 5
        return raw >= 512 ? raw - 1024 : raw
    }

    /// c.lw/c.sw/c.flw/c.fsw: uimm[5:3] = bits 12:10, uimm[2] = bit 6, uimm[6] = bit 5.
    var wordOffset: Int { field(12, 10) << 3 | bit(6) << 2 | bit(5) << 6 }

    /// c.ld/c.sd/c.fld/c.fsd: uimm[5:3] = bits 12:10, uimm[7:6] = bits 6:5.
    var doubleOffset: Int { field(12, 10) << 3 | field(6, 5) << 6 }

    /// c.lwsp: uimm[5] = bit 12, uimm[4:2] = bits 6:4, uimm[7:6] = bits 3:2.
    var lwspOffset: Int { bit12 << 5 | field(6, 4) << 2 | field(3, 2) << 6 }

    /// c.ldsp/c.fldsp: uimm[5] = bit 12, uimm[4:3] = bits 6:5, uimm[8:6] = bits 4:2.
    var ldspOffset: Int { bit12 << 5 | field(6, 5) << 3 | field(4, 2) << 6 }

    /// c.swsp: uimm[5:2] = bits 12:9, uimm[7:6] = bits 8:7.
    var swspOffset: Int { field(12, 9) << 2 | field(8, 7) << 6 }

    /// c.sdsp/c.fsdsp: uimm[5:3] = bits 12:10, uimm[8:6] = bits 9:7.
    var sdspOffset: Int { field(12, 10) << 3 | field(9, 7) << 6 }

    /// c.j: offset[11|4|9:8|10|6|7|3:1|5] in bits 12:2, sign-extended.
    var jumpOffset: Int {
        let raw = bit12 << 11 | bit(11) << 4 | field(10, 9) << 8 | bit(8) << 10
            | bit(7) << 6 | bit(6) << 7 | field(5, 3) << 1 | bit(2) << 5
        return raw >= 2048 ? raw - 4096 : raw
    }

    /// c.beqz/c.bnez: offset[8|4:3] = bits 12:10, offset[7:6|2:1|5] = bits 6:2, sign-extended.
    var branchOffset: Int {
        let raw = bit12 << 8 | field(11, 10) << 3 | field(6, 5) << 6 | field(4, 3) << 1 | bit(2) << 5
        return raw >= 256 ? raw - 512 : raw
    }
}
