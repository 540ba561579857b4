/// Decodes 32-bit RV64IMAFD + Zicsr + Zifencei + privileged instructions into ``DecodedInstruction``s.
///
/// Anything not in those extensions decodes to ``Op/illegal`` carrying the raw bits, so the
/// executor raises an illegal-instruction trap with the encoding in `mtval`.
@usableFromInline
enum Decoder {
    /// Index of the write-only register that absorbs writes to `x0`.
    @usableFromInline static let sink: UInt8 = 32

    @inline(__always) static func field(_ bits: UInt32, _ low: Int, _ width: Int) -> UInt32 {
        (bits >> UInt32(low)) & ((1 << UInt32(width)) - 1)
    }

    /// Destination register for an integer write: x0 becomes the sink.
    @inline(__always) static func intRD(_ bits: UInt32) -> UInt8 {
        let r = UInt8(field(bits, 7, 5))
        return r == 0 ? sink : r
    }

    @inline(__always) static func immI(_ bits: UInt32) -> Int64 { Int64(Int32(bitPattern: bits) >> 20) }
    @inline(__always) static func immS(_ bits: UInt32) -> Int64 {
        Int64((Int32(bitPattern: bits & 0xFE00_0000) >> 20) | Int32(field(bits, 7, 5)))
    }
    @inline(__always) static func immB(_ bits: UInt32) -> Int64 {
        let sign = Int32(bitPattern: bits & 0x8000_0000) >> 19          // bit 12 and up
        let b11 = Int32(field(bits, 7, 1)) << 11
        let b10_5 = Int32(field(bits, 25, 6)) << 5
        let b4_1 = Int32(field(bits, 8, 4)) << 1
        return Int64(sign | b11 | b10_5 | b4_1)
    }
    @inline(__always) static func immU(_ bits: UInt32) -> Int64 { Int64(Int32(bitPattern: bits & 0xFFFF_F000)) }
    @inline(__always) static func immJ(_ bits: UInt32) -> Int64 {
        let sign = Int32(bitPattern: bits & 0x8000_0000) >> 11          // bit 20 and up
        let b19_12 = Int32(bits & 0x000F_F000)
        let b11 = Int32(field(bits, 20, 1)) << 11
        let b10_1 = Int32(field(bits, 21, 10)) << 1
        return Int64(sign | b19_12 | b11 | b10_1)
    }

    @usableFromInline
    static func decode(_ bits: UInt32) -> DecodedInstruction {
        let opcode = bits & 0x7F
        let funct3 = field(bits, 12, 3)
        let funct7 = field(bits, 25, 7)
        let rd = intRD(bits)
        let frd = UInt8(field(bits, 7, 5))
        let rs1 = UInt8(field(bits, 15, 5))
        let rs2 = UInt8(field(bits, 20, 5))
        let bad = DecodedInstruction.illegal(bits, length: 4)

        switch opcode {
        case 0x37: return DecodedInstruction(op: .lui, rd: rd, imm: immU(bits))
        case 0x17: return DecodedInstruction(op: .auipc, rd: rd, imm: immU(bits))
        case 0x6F: return DecodedInstruction(op: .jal, rd: rd, imm: immJ(bits))
        case 0x67:
            guard funct3 == 0 else { return bad }
            return DecodedInstruction(op: .jalr, rd: rd, rs1: rs1, imm: immI(bits))
        case 0x63:
            let ops: [Op?] = [.beq, .bne, nil, nil, .blt, .bge, .bltu, .bgeu]
            guard let op = ops[Int(funct3)] else { return bad }
            return DecodedInstruction(op: op, rs1: rs1, rs2: rs2, imm: immB(bits))
        case 0x03:
            let ops: [Op?] = [.lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, nil]
            guard let op = ops[Int(funct3)] else { return bad }
            return DecodedInstruction(op: op, rd: rd, rs1: rs1, imm: immI(bits))
        case 0x23:
            let ops: [Op?] = [.sb, .sh, .sw, .sd, nil, nil, nil, nil]
            guard let op = ops[Int(funct3)] else { return bad }
            return DecodedInstruction(op: op, rs1: rs1, rs2: rs2, imm: immS(bits))
        case 0x13:
            let imm = immI(bits)
            switch funct3 {
            case 0: return DecodedInstruction(op: .addi, rd: rd, rs1: rs1, imm: imm)
            case 2: return DecodedInstruction(op: .slti, rd: rd, rs1: rs1, imm: imm)
            case 3: return DecodedInstruction(op: .sltiu, rd: rd, rs1: rs1, imm: imm)
            case 4: return DecodedInstruction(op: .xori, rd: rd, rs1: rs1, imm: imm)
            case 6: return DecodedInstruction(op: .ori, rd: rd, rs1: rs1, imm: imm)
            case 7: return DecodedInstruction(op: .andi, rd: rd, rs1: rs1, imm: imm)
            case 1:
                guard field(bits, 26, 6) == 0 else { return bad }
                return DecodedInstruction(op: .slli, rd: rd, rs1: rs1, imm: Int64(field(bits, 20, 6)))
            default: // 5
                switch field(bits, 26, 6) {
                case 0x00: return DecodedInstruction(op: .srli, rd: rd, rs1: rs1, imm: Int64(field(bits, 20, 6)))
                case 0x10: return DecodedInstruction(op: .srai, rd: rd, rs1: rs1, imm: Int64(field(bits, 20, 6)))
                default: return bad
                }
            }
        case 0x1B:
            switch (funct3, funct7) {
            case (0, _): return DecodedInstruction(op: .addiw, rd: rd, rs1: rs1, imm: immI(bits))
            case (1, 0x00): return DecodedInstruction(op: .slliw, rd: rd, rs1: rs1, imm: Int64(rs2))
            case (5, 0x00): return DecodedInstruction(op: .srliw, rd: rd, rs1: rs1, imm: Int64(rs2))
            case (5, 0x20): return DecodedInstruction(op: .sraiw, rd: rd, rs1: rs1, imm: Int64(rs2))
            default: return bad
            }
        case 0x33:
            let op: Op?
            switch funct7 {
            case 0x00: op = ([.add, .sll, .slt, .sltu, .xor, .srl, .or, .and] as [Op])[Int(funct3)]
            case 0x20: op = ([.sub, nil, nil, nil, nil, .sra, nil, nil] as [Op?])[Int(funct3)]
            case 0x01: op = ([.mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu] as [Op])[Int(funct3)]
            default: op = nil
            }
            guard let op else { return bad }
            return DecodedInstruction(op: op, rd: rd, rs1: rs1, rs2: rs2)
        case 0x3B:
            let op: Op?
            switch funct7 {
            case 0x00: op = ([.addw, .sllw, nil, nil, nil, .srlw, nil, nil] as [Op?])[Int(funct3)]
            case 0x20: op = ([.subw, nil, nil, nil, nil, .sraw, nil, nil] as [Op?])[Int(funct3)]
            case 0x01: op = ([.mulw, nil, nil, nil, .divw, .divuw, .remw, .remuw] as [Op?])[Int(funct3)]
            default: op = nil
            }
            guard let op else { return bad }
            return DecodedInstruction(op: op, rd: rd, rs1: rs1, rs2: rs2)
        case 0x0F:
            switch funct3 {
            case 0: return DecodedInstruction(op: .fence)
            case 1: return DecodedInstruction(op: .fenceI)
            default: return bad
            }
        case 0x73:
            return decodeSystem(bits, rd: rd, rs1: rs1, rs2: rs2, funct3: funct3, funct7: funct7)
        case 0x2F:
            return decodeAtomic(bits, rd: rd, rs1: rs1, rs2: rs2, funct3: funct3)
        case 0x07:
            switch funct3 {
            case 2: return DecodedInstruction(op: .flw, rd: frd, rs1: rs1, imm: immI(bits))
            case 3: return DecodedInstruction(op: .fld, rd: frd, rs1: rs1, imm: immI(bits))
            default: return bad
            }
        case 0x27:
            switch funct3 {
            case 2: return DecodedInstruction(op: .fsw, rs1: rs1, rs2: rs2, imm: immS(bits))
            case 3: return DecodedInstruction(op: .fsd, rs1: rs1, rs2: rs2, imm: immS(bits))
            default: return bad
            }
        case 0x43, 0x47, 0x4B, 0x4F:
            let fmt = field(bits, 25, 2)
            let index = Int((opcode - 0x43) >> 2)
            let op: Op
            switch fmt {
            case 0: op = ([.fmaddS, .fmsubS, .fnmsubS, .fnmaddS] as [Op])[index]
            case 1: op = ([.fmaddD, .fmsubD, .fnmsubD, .fnmaddD] as [Op])[index]
            default: return bad
            }
            guard validStaticRM(funct3) else { return bad }
            return DecodedInstruction(op: op, rd: frd, rs1: rs1, rs2: rs2, rs3: UInt8(field(bits, 27, 5)), rm: UInt8(funct3))
        case 0x53:
            return decodeFloat(bits, rd: rd, frd: frd, rs1: rs1, rs2: rs2, funct3: funct3, funct7: funct7)
        default:
            return bad
        }
    }

    /// Rounding-mode field values 5 and 6 are reserved; 7 (dynamic) is checked against `frm` at run time.
    @inline(__always) static func validStaticRM(_ rm: UInt32) -> Bool { rm != 5 && rm != 6 }

    static func decodeSystem(_ bits: UInt32, rd: UInt8, rs1: UInt8, rs2: UInt8, funct3: UInt32, funct7: UInt32) -> DecodedInstruction {
        let bad = DecodedInstruction.illegal(bits, length: 4)
        let csr = Int64(field(bits, 20, 12))
        switch funct3 {
        case 0:
            switch bits {
            case 0x0000_0073: return DecodedInstruction(op: .ecall)
            case 0x0010_0073: return DecodedInstruction(op: .ebreak)
            case 0x3020_0073: return DecodedInstruction(op: .mret)
            case 0x1020_0073: return DecodedInstruction(op: .sret)
            case 0x1050_0073: return DecodedInstruction(op: .wfi)
            default:
                if funct7 == 0x09 && field(bits, 7, 5) == 0 {
                    return DecodedInstruction(op: .sfenceVMA, rs1: rs1, rs2: rs2)
                }
                return bad
            }
        case 1: return DecodedInstruction(op: .csrrw, rd: rd, rs1: rs1, imm: csr)
        case 2: return DecodedInstruction(op: .csrrs, rd: rd, rs1: rs1, imm: csr)
        case 3: return DecodedInstruction(op: .csrrc, rd: rd, rs1: rs1, imm: csr)
        case 5: return DecodedInstruction(op: .csrrwi, rd: rd, rs1: rs1, imm: csr)
        case 6: return DecodedInstruction(op: .csrrsi, rd: rd, rs1: rs1, imm: csr)
        case 7: return DecodedInstruction(op: .csrrci, rd: rd, rs1: rs1, imm: csr)
        default: return bad
        }
    }

    static func decodeAtomic(_ bits: UInt32, rd: UInt8, rs1: UInt8, rs2: UInt8, funct3: UInt32) -> DecodedInstruction {
        let bad = DecodedInstruction.illegal(bits, length: 4)
        let funct5 = field(bits, 27, 5)
        let aqrl = UInt8(field(bits, 25, 2))
        let word: Bool
        switch funct3 {
        case 2: word = true
        case 3: word = false
        default: return bad
        }
        let op: Op
        switch funct5 {
        case 0x02:
            guard rs2 == 0 else { return bad }
            op = word ? .lrW : .lrD
        case 0x03: op = word ? .scW : .scD
        case 0x01: op = word ? .amoswapW : .amoswapD
        case 0x00: op = word ? .amoaddW : .amoaddD
        case 0x04: op = word ? .amoxorW : .amoxorD
        case 0x0C: op = word ? .amoandW : .amoandD
        case 0x08: op = word ? .amoorW : .amoorD
        case 0x10: op = word ? .amominW : .amominD
        case 0x14: op = word ? .amomaxW : .amomaxD
        case 0x18: op = word ? .amominuW : .amominuD
        case 0x1C: op = word ? .amomaxuW : .amomaxuD
        default: return bad
        }
        return DecodedInstruction(op: op, rd: rd, rs1: rs1, rs2: rs2, rm: aqrl)
    }

    static func decodeFloat(_ bits: UInt32, rd: UInt8, frd: UInt8, rs1: UInt8, rs2: UInt8, funct3: UInt32, funct7: UInt32) -> DecodedInstruction {
        let bad = DecodedInstruction.illegal(bits, length: 4)
        let rm = UInt8(funct3)
        let double = (funct7 & 1) == 1
        guard funct7 & 2 == 0 else { return bad }   // fmt 2 (H) and 3 (Q) are not implemented
        func fp(_ s: Op, _ d: Op) -> DecodedInstruction {
            guard validStaticRM(funct3) else { return bad }
            return DecodedInstruction(op: double ? d : s, rd: frd, rs1: rs1, rs2: rs2, rm: rm)
        }
        switch funct7 >> 2 {
        case 0x00: return fp(.faddS, .faddD)
        case 0x01: return fp(.fsubS, .fsubD)
        case 0x02: return fp(.fmulS, .fmulD)
        case 0x03: return fp(.fdivS, .fdivD)
        case 0x0B:
            guard rs2 == 0 else { return bad }
            return fp(.fsqrtS, .fsqrtD)
        case 0x04:
            let ops: [Op?] = double ? [.fsgnjD, .fsgnjnD, .fsgnjxD] : [.fsgnjS, .fsgnjnS, .fsgnjxS]
            guard funct3 < 3, let op = ops[Int(funct3)] else { return bad }
            return DecodedInstruction(op: op, rd: frd, rs1: rs1, rs2: rs2)
        case 0x05:
            let ops: [Op] = double ? [.fminD, .fmaxD] : [.fminS, .fmaxS]
            guard funct3 < 2 else { return bad }
            return DecodedInstruction(op: ops[Int(funct3)], rd: frd, rs1: rs1, rs2: rs2)
        case 0x08:
            // fcvt.s.d (funct7 0x20, rs2 1) and fcvt.d.s (funct7 0x21, rs2 0)
            guard validStaticRM(funct3) else { return bad }
            if double && rs2 == 0 { return DecodedInstruction(op: .fcvtDS, rd: frd, rs1: rs1, rm: rm) }
            if !double && rs2 == 1 { return DecodedInstruction(op: .fcvtSD, rd: frd, rs1: rs1, rm: rm) }
            return bad
        case 0x14:
            let ops: [Op] = double ? [.fleD, .fltD, .feqD] : [.fleS, .fltS, .feqS]
            guard funct3 < 3 else { return bad }
            return DecodedInstruction(op: ops[Int(funct3)], rd: rd, rs1: rs1, rs2: rs2)
        case 0x18:
            guard validStaticRM(funct3), rs2 < 4 else { return bad }
            let ops: [Op] = double ? [.fcvtWD, .fcvtWUD, .fcvtLD, .fcvtLUD] : [.fcvtWS, .fcvtWUS, .fcvtLS, .fcvtLUS]
            return DecodedInstruction(op: ops[Int(rs2)], rd: rd, rs1: rs1, rm: rm)
        case 0x1A:
            guard validStaticRM(funct3), rs2 < 4 else { return bad }
            let ops: [Op] = double ? [.fcvtDW, .fcvtDWU, .fcvtDL, .fcvtDLU] : [.fcvtSW, .fcvtSWU, .fcvtSL, .fcvtSLU]
            return DecodedInstruction(op: ops[Int(rs2)], rd: frd, rs1: rs1, rm: rm)
        case 0x1C:
            guard rs2 == 0 else { return bad }
            switch funct3 {
            case 0: return DecodedInstruction(op: double ? .fmvXD : .fmvXW, rd: rd, rs1: rs1)
            case 1: return DecodedInstruction(op: double ? .fclassD : .fclassS, rd: rd, rs1: rs1)
            default: return bad
            }
        case 0x1E:
            guard rs2 == 0, funct3 == 0 else { return bad }
            return DecodedInstruction(op: double ? .fmvDX : .fmvWX, rd: frd, rs1: rs1)
        default:
            return bad
        }
    }
}
