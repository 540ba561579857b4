/// Expands 16-bit RV64C instructions into the same ``DecodedInstruction``s as their 32-bit forms.
@usableFromInline
enum CompressedDecoder {
    @inline(__always) static func bit(_ b: UInt32, _ i: Int) -> UInt32 { (b >> UInt32(i)) & 1 }
    @inline(__always) static func bits(_ b: UInt32, _ hi: Int, _ lo: Int) -> UInt32 {
        (b >> UInt32(lo)) & ((1 << UInt32(hi - lo + 1)) - 1)
    }
    /// Sign-extends the low `width` bits of `value`.
    @inline(__always) static func signExtend(_ value: UInt32, _ width: Int) -> Int64 {
        let shift = UInt32(32 - width)
        return Int64(Int32(bitPattern: value << shift) >> shift)
    }
    /// Destination for integer writes: x0 becomes the sink register.
    @inline(__always) static func intRD(_ r: UInt32) -> UInt8 { r == 0 ? Decoder.sink : UInt8(r) }

    @usableFromInline
    static func decode(_ half: UInt16) -> DecodedInstruction {
        let b = UInt32(half)
        let bad = DecodedInstruction.illegal(b, length: 2)
        let funct3 = bits(b, 15, 13)
        let rdFull = bits(b, 11, 7)            // rd/rs1 in CI/CR formats
        let rs2Full = bits(b, 6, 2)
        let rdP = UInt8(bits(b, 4, 2) + 8)     // rd'/rs2' in CIW/CL/CS formats
        let rs1P = UInt8(bits(b, 9, 7) + 8)    // rs1'/rd' in CL/CS/CB formats
        func make(_ op: Op, rd: UInt8 = 0, rs1: UInt8 = 0, rs2: UInt8 = 0, imm: Int64 = 0) -> DecodedInstruction {
            DecodedInstruction(op: op, rd: rd, rs1: rs1, rs2: rs2, length: 2, imm: imm)
        }

        switch b & 3 {
        case 0:
            switch funct3 {
            case 0:
                let imm = (bits(b, 12, 11) << 4) | (bits(b, 10, 7) << 6) | (bit(b, 6) << 2) | (bit(b, 5) << 3)
                guard imm != 0 else { return bad }   // includes the all-zero illegal instruction
                return make(.cAddi, rd: rdP, rs1: 2, imm: Int64(imm))
            case 1:
                let imm = (bits(b, 12, 10) << 3) | (bits(b, 6, 5) << 6)
                return make(.cFld, rd: rdP, rs1: rs1P, imm: Int64(imm))
            case 2:
                let imm = (bits(b, 12, 10) << 3) | (bit(b, 6) << 2) | (bit(b, 5) << 6)
                return make(.cLw, rd: rdP, rs1: rs1P, imm: Int64(imm))
            case 3:
                let imm = (bits(b, 12, 10) << 3) | (bits(b, 6, 5) << 6)
                return make(.cLd, rd: rdP, rs1: rs1P, imm: Int64(imm))
            case 5:
                let imm = (bits(b, 12, 10) << 3) | (bits(b, 6, 5) << 6)
                return make(.cFsd, rs1: rs1P, rs2: rdP, imm: Int64(imm))
            case 6:
                let imm = (bits(b, 12, 10) << 3) | (bit(b, 6) << 2) | (bit(b, 5) << 6)
                return make(.cSw, rs1: rs1P, rs2: rdP, imm: Int64(imm))
            case 7:
                let imm = (bits(b, 12, 10) << 3) | (bits(b, 6, 5) << 6)
                return make(.cSd, rs1: rs1P, rs2: rdP, imm: Int64(imm))
            default:
                return bad
            }
        case 1:
            let immCI = signExtend((bit(b, 12) << 5) | rs2Full, 6)
            switch funct3 {
            case 0:
                return make(.cAddi, rd: intRD(rdFull), rs1: UInt8(rdFull), imm: immCI)
            case 1:
                guard rdFull != 0 else { return bad }
                return make(.cAddiw, rd: UInt8(rdFull), rs1: UInt8(rdFull), imm: immCI)
            case 2:
                return make(.cAddi, rd: intRD(rdFull), rs1: 0, imm: immCI)
            case 3:
                if rdFull == 2 {
                    let raw = (bit(b, 12) << 9) | (bit(b, 6) << 4) | (bit(b, 5) << 6) | (bits(b, 4, 3) << 7) | (bit(b, 2) << 5)
                    guard raw != 0 else { return bad }
                    return make(.cAddi, rd: 2, rs1: 2, imm: signExtend(raw, 10))
                }
                let raw = (bit(b, 12) << 17) | (rs2Full << 12)
                guard raw != 0 else { return bad }
                return make(.cLui, rd: intRD(rdFull), imm: signExtend(raw, 18))
            case 4:
                let shamt = Int64((bit(b, 12) << 5) | rs2Full)
                switch bits(b, 11, 10) {
                case 0: return make(.cSrli, rd: rs1P, rs1: rs1P, imm: shamt)
                case 1: return make(.cSrai, rd: rs1P, rs1: rs1P, imm: shamt)
                case 2: return make(.cAndi, rd: rs1P, rs1: rs1P, imm: immCI)
                default:
                    let rs2P = rdP
                    switch (bit(b, 12), bits(b, 6, 5)) {
                    case (0, 0): return make(.cSub, rd: rs1P, rs1: rs1P, rs2: rs2P)
                    case (0, 1): return make(.cXor, rd: rs1P, rs1: rs1P, rs2: rs2P)
                    case (0, 2): return make(.cOr, rd: rs1P, rs1: rs1P, rs2: rs2P)
                    case (0, 3): return make(.cAnd, rd: rs1P, rs1: rs1P, rs2: rs2P)
                    case (1, 0): return make(.cSubw, rd: rs1P, rs1: rs1P, rs2: rs2P)
                    case (1, 1): return make(.cAddw, rd: rs1P, rs1: rs1P, rs2: rs2P)
                    default: return bad
                    }
                }
            case 5:
                let raw = (bit(b, 12) << 11) | (bit(b, 11) << 4) | (bits(b, 10, 9) << 8) | (bit(b, 8) << 10)
                    | (bit(b, 7) << 6) | (bit(b, 6) << 7) | (bits(b, 5, 3) << 1) | (bit(b, 2) << 5)
                return make(.cJal, rd: Decoder.sink, imm: signExtend(raw, 12))
            default: // 6, 7
                let raw = (bit(b, 12) << 8) | (bits(b, 11, 10) << 3) | (bits(b, 6, 5) << 6) | (bits(b, 4, 3) << 1) | (bit(b, 2) << 5)
                return make(funct3 == 6 ? .cBeq : .cBne, rs1: rs1P, rs2: 0, imm: signExtend(raw, 9))
            }
        case 2:
            switch funct3 {
            case 0:
                let shamt = Int64((bit(b, 12) << 5) | rs2Full)
                return make(.cSlli, rd: intRD(rdFull), rs1: UInt8(rdFull), imm: shamt)
            case 1:
                let imm = (bit(b, 12) << 5) | (bits(b, 6, 5) << 3) | (bits(b, 4, 2) << 6)
                return make(.cFld, rd: UInt8(rdFull), rs1: 2, imm: Int64(imm))
            case 2:
                guard rdFull != 0 else { return bad }
                let imm = (bit(b, 12) << 5) | (bits(b, 6, 4) << 2) | (bits(b, 3, 2) << 6)
                return make(.cLw, rd: UInt8(rdFull), rs1: 2, imm: Int64(imm))
            case 3:
                guard rdFull != 0 else { return bad }
                let imm = (bit(b, 12) << 5) | (bits(b, 6, 5) << 3) | (bits(b, 4, 2) << 6)
                return make(.cLd, rd: UInt8(rdFull), rs1: 2, imm: Int64(imm))
            case 4:
                if bit(b, 12) == 0 {
                    if rs2Full == 0 {
                        guard rdFull != 0 else { return bad }
                        return make(.cJr, rd: Decoder.sink, rs1: UInt8(rdFull), imm: 0)
                    }
                    return make(.cAdd, rd: intRD(rdFull), rs1: 0, rs2: UInt8(rs2Full))
                }
                if rs2Full == 0 {
                    if rdFull == 0 { return DecodedInstruction(op: .ebreak, length: 2) }
                    return make(.cJalr, rd: 1, rs1: UInt8(rdFull), imm: 0)
                }
                return make(.cAdd, rd: intRD(rdFull), rs1: UInt8(rdFull), rs2: UInt8(rs2Full))
            case 5:
                let imm = (bits(b, 12, 10) << 3) | (bits(b, 9, 7) << 6)
                return make(.cFsd, rs1: 2, rs2: UInt8(rs2Full), imm: Int64(imm))
            case 6:
                let imm = (bits(b, 12, 9) << 2) | (bits(b, 8, 7) << 6)
                return make(.cSw, rs1: 2, rs2: UInt8(rs2Full), imm: Int64(imm))
            default:
                let imm = (bits(b, 12, 10) << 3) | (bits(b, 9, 7) << 6)
                return make(.cSd, rs1: 2, rs2: UInt8(rs2Full), imm: Int64(imm))
            }
        default:
            return bad
        }
    }
}
