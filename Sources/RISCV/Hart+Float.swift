import CRISCVFloat

/// The F and D computational instructions. Arithmetic is done by CRISCVFloat (software IEEE-754
/// with RISC-V rules), so results and flags are bit-identical on every host.
extension Hart {
    static let canonicalNaN32: UInt32 = 0x7FC0_0000
    static let boxMask: UInt64 = 0xFFFF_FFFF_0000_0000

    /// A single-precision operand: the low half if properly NaN-boxed, else the canonical NaN.
    @inline(__always) func single(_ r: UInt8) -> UInt32 {
        let v = f[Int(r)]
        return v & Hart.boxMask == Hart.boxMask ? UInt32(truncatingIfNeeded: v) : Hart.canonicalNaN32
    }

    @inline(__always) func setSingle(_ r: UInt8, _ v: UInt32) {
        f[Int(r)] = Hart.boxMask | UInt64(v)
        state.pointee.mstatus |= MStatus.fsDirty
    }

    @inline(__always) func setDouble(_ r: UInt8, _ v: UInt64) {
        f[Int(r)] = v
        state.pointee.mstatus |= MStatus.fsDirty
    }

    @inline(__always) func accrue(_ flags: UInt32) {
        if flags != 0 {
            state.pointee.fflags |= flags
            state.pointee.mstatus |= MStatus.fsDirty
        }
    }

    /// Executes one F/D computational instruction; false means illegal (FPU off or bad rounding mode).
    @inline(never)
    func executeFloat(_ d: DecodedInstruction) -> Bool {
        guard state.pointee.mstatus & MStatus.fs != 0 else { return false }
        let rm = d.rm == 7 ? state.pointee.frm : UInt32(d.rm)
        let rd = d.rd, rs1 = d.rs1, rs2 = d.rs2
        var fl: UInt32 = 0

        switch d.op {
        // Sign injection, moves, classification: no rounding, no flags.
        case .fsgnjS, .fsgnjnS, .fsgnjxS:
            let a = single(rs1), b = single(rs2)
            let sign: UInt32
            switch d.op {
            case .fsgnjS: sign = b & 0x8000_0000
            case .fsgnjnS: sign = ~b & 0x8000_0000
            default: sign = (a ^ b) & 0x8000_0000
            }
            setSingle(rd, (a & 0x7FFF_FFFF) | sign)
            return true
        case .fsgnjD, .fsgnjnD, .fsgnjxD:
            let a = f[Int(rs1)], b = f[Int(rs2)]
            let sign: UInt64
            switch d.op {
            case .fsgnjD: sign = b & (1 << 63)
            case .fsgnjnD: sign = ~b & (1 << 63)
            default: sign = (a ^ b) & (1 << 63)
            }
            setDouble(rd, (a & ~(1 << 63)) | sign)
            return true
        case .fmvXW:
            x[Int(rd)] = signExtend32(UInt32(truncatingIfNeeded: f[Int(rs1)]))
            return true
        case .fmvXD:
            x[Int(rd)] = f[Int(rs1)]
            return true
        case .fmvWX:
            setSingle(rd, UInt32(truncatingIfNeeded: x[Int(rs1)]))
            return true
        case .fmvDX:
            setDouble(rd, x[Int(rs1)])
            return true
        case .fclassS:
            x[Int(rd)] = UInt64(rvf32_classify(single(rs1)))
            return true
        case .fclassD:
            x[Int(rd)] = UInt64(rvf64_classify(f[Int(rs1)]))
            return true
        case .fminS, .fmaxS:
            let r = d.op == .fminS ? rvf32_min(single(rs1), single(rs2), &fl) : rvf32_max(single(rs1), single(rs2), &fl)
            setSingle(rd, r)
            accrue(fl)
            return true
        case .fminD, .fmaxD:
            let r = d.op == .fminD ? rvf64_min(f[Int(rs1)], f[Int(rs2)], &fl) : rvf64_max(f[Int(rs1)], f[Int(rs2)], &fl)
            setDouble(rd, r)
            accrue(fl)
            return true
        case .feqS, .fltS, .fleS:
            let a = single(rs1), b = single(rs2)
            let r = d.op == .feqS ? rvf32_eq(a, b, &fl) : d.op == .fltS ? rvf32_lt(a, b, &fl) : rvf32_le(a, b, &fl)
            x[Int(rd)] = r != 0 ? 1 : 0
            accrue(fl)
            return true
        case .feqD, .fltD, .fleD:
            let a = f[Int(rs1)], b = f[Int(rs2)]
            let r = d.op == .feqD ? rvf64_eq(a, b, &fl) : d.op == .fltD ? rvf64_lt(a, b, &fl) : rvf64_le(a, b, &fl)
            x[Int(rd)] = r != 0 ? 1 : 0
            accrue(fl)
            return true
        default:
            break
        }

        // Everything below rounds.
        guard rm <= 4 else { return false }
        switch d.op {
        case .faddS: setSingle(rd, rvf32_add(single(rs1), single(rs2), rm, &fl))
        case .fsubS: setSingle(rd, rvf32_sub(single(rs1), single(rs2), rm, &fl))
        case .fmulS: setSingle(rd, rvf32_mul(single(rs1), single(rs2), rm, &fl))
        case .fdivS: setSingle(rd, rvf32_div(single(rs1), single(rs2), rm, &fl))
        case .fsqrtS: setSingle(rd, rvf32_sqrt(single(rs1), rm, &fl))
        case .faddD: setDouble(rd, rvf64_add(f[Int(rs1)], f[Int(rs2)], rm, &fl))
        case .fsubD: setDouble(rd, rvf64_sub(f[Int(rs1)], f[Int(rs2)], rm, &fl))
        case .fmulD: setDouble(rd, rvf64_mul(f[Int(rs1)], f[Int(rs2)], rm, &fl))
        case .fdivD: setDouble(rd, rvf64_div(f[Int(rs1)], f[Int(rs2)], rm, &fl))
        case .fsqrtD: setDouble(rd, rvf64_sqrt(f[Int(rs1)], rm, &fl))
        case .fmaddS, .fmsubS, .fnmsubS, .fnmaddS:
            let kind: UInt32 = d.op == .fmaddS ? 0 : d.op == .fmsubS ? 1 : d.op == .fnmsubS ? 2 : 3
            setSingle(rd, rvf32_muladd(single(rs1), single(rs2), single(d.rs3), kind, rm, &fl))
        case .fmaddD, .fmsubD, .fnmsubD, .fnmaddD:
            let kind: UInt32 = d.op == .fmaddD ? 0 : d.op == .fmsubD ? 1 : d.op == .fnmsubD ? 2 : 3
            setDouble(rd, rvf64_muladd(f[Int(rs1)], f[Int(rs2)], f[Int(d.rs3)], kind, rm, &fl))
        case .fcvtSD: setSingle(rd, rvf64_to_f32(f[Int(rs1)], rm, &fl))
        case .fcvtDS: setDouble(rd, rvf32_to_f64(single(rs1), &fl))
        case .fcvtWS: x[Int(rd)] = UInt64(truncatingIfNeeded: rvf32_to_i32(single(rs1), rm, &fl))
        case .fcvtWUS: x[Int(rd)] = UInt64(truncatingIfNeeded: rvf32_to_u32(single(rs1), rm, &fl))
        case .fcvtLS: x[Int(rd)] = UInt64(truncatingIfNeeded: rvf32_to_i64(single(rs1), rm, &fl))
        case .fcvtLUS: x[Int(rd)] = UInt64(truncatingIfNeeded: rvf32_to_u64(single(rs1), rm, &fl))
        case .fcvtWD: x[Int(rd)] = UInt64(truncatingIfNeeded: rvf64_to_i32(f[Int(rs1)], rm, &fl))
        case .fcvtWUD: x[Int(rd)] = UInt64(truncatingIfNeeded: rvf64_to_u32(f[Int(rs1)], rm, &fl))
        case .fcvtLD: x[Int(rd)] = UInt64(truncatingIfNeeded: rvf64_to_i64(f[Int(rs1)], rm, &fl))
        case .fcvtLUD: x[Int(rd)] = UInt64(truncatingIfNeeded: rvf64_to_u64(f[Int(rs1)], rm, &fl))
        case .fcvtSW: setSingle(rd, rvf32_from_i32(Int32(truncatingIfNeeded: x[Int(rs1)]), rm, &fl))
        case .fcvtSWU: setSingle(rd, rvf32_from_u32(UInt32(truncatingIfNeeded: x[Int(rs1)]), rm, &fl))
        case .fcvtSL: setSingle(rd, rvf32_from_i64(Int64(bitPattern: x[Int(rs1)]), rm, &fl))
        case .fcvtSLU: setSingle(rd, rvf32_from_u64(x[Int(rs1)], rm, &fl))
        case .fcvtDW: setDouble(rd, rvf64_from_i32(Int32(truncatingIfNeeded: x[Int(rs1)]), rm, &fl))
        case .fcvtDWU: setDouble(rd, rvf64_from_u32(UInt32(truncatingIfNeeded: x[Int(rs1)]), rm, &fl))
        case .fcvtDL: setDouble(rd, rvf64_from_i64(Int64(bitPattern: x[Int(rs1)]), rm, &fl))
        case .fcvtDLU: setDouble(rd, rvf64_from_u64(x[Int(rs1)], rm, &fl))
        default:
            return false
        }
        accrue(fl)
        return true
    }
}
