/// Disassembly of 16-bit compressed instructions (the C extension for RV64 with F and D),
/// printed with their own `c.` mnemonics as objdump does with `-M no-aliases`.
enum CompressedDisassembler {
    typealias X = Registers

    /// Disassembles the compressed instruction `bits` located at `pc`.
    static func disassemble(_ bits: UInt16, pc: UInt64) -> String {
        let c = CompressedFields(bits)
        let text: String?
        switch c.quadrant {
        case 0: text = quadrant0(c)
        case 1: text = quadrant1(c, pc: pc)
        case 2: text = quadrant2(c)
        default: text = nil
        }
        return text ?? RISCVDisassembler.unknown
    }

    private static func memory(_ offset: Int, _ base: String) -> String { "\(offset)(\(base))" }

    private static func quadrant0(_ c: CompressedFields) -> String? {
        let rdPrime = X.xPrime(c.rs2Prime), fdPrime = X.fPrime(c.rs2Prime), base = X.xPrime(c.rs1Prime)
        switch c.funct3 {
        case 0:
            if c.bits == 0 { return "c.unimp" }
            guard c.addi4spnImmediate != 0 else { return nil }
            return Format.instruction("c.addi4spn", rdPrime, "sp", String(c.addi4spnImmediate))
        case 1: return Format.instruction("c.fld", fdPrime, memory(c.doubleOffset, base))
        case 2: return Format.instruction("c.lw", rdPrime, memory(c.wordOffset, base))
        case 3: return Format.instruction("c.ld", rdPrime, memory(c.doubleOffset, base))
        case 5: return Format.instruction("c.fsd", fdPrime, memory(c.doubleOffset, base))
        case 6: return Format.instruction("c.sw", rdPrime, memory(c.wordOffset, base))
        case 7: return Format.instruction("c.sd", rdPrime, memory(c.doubleOffset, base))
        default: return nil
        }
    }

    private static func quadrant1(_ c: CompressedFields, pc: UInt64) -> String? {
        let rd = X.x(c.rd)
        switch c.funct3 {
        case 0:
            return Format.instruction("c.addi", rd, String(c.ciImmediate))
        case 1:
            guard c.rd != 0 else { return nil }
            return Format.instruction("c.addiw", rd, String(c.ciImmediate))
        case 2:
            return Format.instruction("c.li", rd, String(c.ciImmediate))
        case 3:
            if c.rd == 2 {
                // objdump accepts a zero immediate here (a reserved encoding).
                return Format.instruction("c.addi16sp", "sp", String(c.addi16spImmediate))
            }
            guard c.ciImmediate != 0 else { return nil }
            // objdump prints the 6-bit signed immediate truncated to the 20-bit lui field.
            return Format.instruction("c.lui", rd, Format.hex(c.ciImmediate & 0xfffff))
        case 4:
            return arithmetic(c)
        case 5:
            return Format.instruction("c.j", Format.target(pc: pc, offset: Int32(c.jumpOffset)))
        case 6:
            return Format.instruction("c.beqz", X.xPrime(c.rs1Prime), Format.target(pc: pc, offset: Int32(c.branchOffset)))
        default:
            return Format.instruction("c.bnez", X.xPrime(c.rs1Prime), Format.target(pc: pc, offset: Int32(c.branchOffset)))
        }
    }

    /// Quadrant 1, funct3 = 100: shifts, c.andi and the register-register ALU operations.
    private static func arithmetic(_ c: CompressedFields) -> String? {
        let rd = X.xPrime(c.rs1Prime), rs2 = X.xPrime(c.rs2Prime)
        switch c.funct2High {
        case 0:
            return c.ciUnsigned == 0
                ? Format.instruction("c.srli64", rd)
                : Format.instruction("c.srli", rd, Format.hex(c.ciUnsigned))
        case 1:
            return c.ciUnsigned == 0
                ? Format.instruction("c.srai64", rd)
                : Format.instruction("c.srai", rd, Format.hex(c.ciUnsigned))
        case 2:
            return Format.instruction("c.andi", rd, String(c.ciImmediate))
        default:
            let names: [String?] = c.bit12 == 0
                ? ["c.sub", "c.xor", "c.or", "c.and"]
                : ["c.subw", "c.addw", nil, nil]
            guard let name = names[c.funct2Low] else { return nil }
            return Format.instruction(name, rd, rs2)
        }
    }

    private static func quadrant2(_ c: CompressedFields) -> String? {
        let rd = X.x(c.rd)
        switch c.funct3 {
        case 0:
            return c.ciUnsigned == 0
                ? Format.instruction("c.slli64", rd)
                : Format.instruction("c.slli", rd, Format.hex(c.ciUnsigned))
        case 1:
            return Format.instruction("c.fldsp", X.f(c.rd), memory(c.ldspOffset, "sp"))
        case 2:
            guard c.rd != 0 else { return nil }
            return Format.instruction("c.lwsp", rd, memory(c.lwspOffset, "sp"))
        case 3:
            guard c.rd != 0 else { return nil }
            return Format.instruction("c.ldsp", rd, memory(c.ldspOffset, "sp"))
        case 4:
            return jumpOrMove(c)
        case 5:
            return Format.instruction("c.fsdsp", X.f(c.rs2), memory(c.sdspOffset, "sp"))
        case 6:
            return Format.instruction("c.swsp", X.x(c.rs2), memory(c.swspOffset, "sp"))
        default:
            return Format.instruction("c.sdsp", X.x(c.rs2), memory(c.sdspOffset, "sp"))
        }
    }

    /// Quadrant 2, funct3 = 100: c.jr, c.mv, c.ebreak, c.jalr and c.add.
    private static func jumpOrMove(_ c: CompressedFields) -> String? {
        let rd = X.x(c.rd), rs2 = X.x(c.rs2)
        switch (c.bit12, c.rd, c.rs2) {
        case (0, 0, 0): return nil
        case (0, _, 0): return Format.instruction("c.jr", rd)
        case (0, _, _): return Format.instruction("c.mv", rd, rs2)
        case (_, 0, 0): return "c.ebreak"
        case (_, _, 0): return Format.instruction("c.jalr", rd)
        default: return Format.instruction("c.add", rd, rs2)
        }
    }
}
