/// Disassembly of the F and D extensions: loads and stores, fused multiply-adds and OP-FP.
enum FloatingPointDisassembler {
    typealias X = Registers

    /// Disassembles a floating-point instruction, or returns nil if invalid.
    static func disassemble(_ i: InstructionFields) -> String? {
        switch i.opcode {
        case 0x07: return load(i)
        case 0x27: return store(i)
        case 0x43, 0x47, 0x4b, 0x4f: return fusedMultiplyAdd(i)
        default: return operation(i)
        }
    }

    private static func load(_ i: InstructionFields) -> String? {
        let name: String
        switch i.funct3 {
        case 2: name = "flw"
        case 3: name = "fld"
        default: return nil
        }
        return Format.instruction(name, X.f(i.rd), Format.memory(i.iImmediate, X.x(i.rs1)))
    }

    private static func store(_ i: InstructionFields) -> String? {
        let name: String
        switch i.funct3 {
        case 2: name = "fsw"
        case 3: name = "fsd"
        default: return nil
        }
        return Format.instruction(name, X.f(i.rs2), Format.memory(i.sImmediate, X.x(i.rs1)))
    }

    private static let fusedNames: [UInt32: String] = [0x43: "fmadd", 0x47: "fmsub", 0x4b: "fnmsub", 0x4f: "fnmadd"]

    private static func fusedMultiplyAdd(_ i: InstructionFields) -> String? {
        guard let base = fusedNames[i.opcode], let precision = precision(i.fmt) else { return nil }
        return Format.instruction(base + precision, X.f(i.rd), X.f(i.rs1), X.f(i.rs2), X.f(i.rs3))
            + RoundingMode.suffix(i.funct3)
    }

    /// The mnemonic suffix for the format field (bits 26:25): only S and D are supported.
    private static func precision(_ fmt: UInt32) -> String? {
        switch fmt {
        case 0: return ".s"
        case 1: return ".d"
        default: return nil
        }
    }

    /// OP-FP (major opcode 0x53).
    private static func operation(_ i: InstructionFields) -> String? {
        guard let p = precision(i.funct7 & 3) else { return nil }
        let rm = i.funct3
        let fd = X.f(i.rd), fs1 = X.f(i.rs1), fs2 = X.f(i.rs2)
        let xd = X.x(i.rd), xs1 = X.x(i.rs1)
        let isDouble = p == ".d"

        switch i.funct7 >> 2 {
        case 0x00, 0x01, 0x02, 0x03:
            let names = ["fadd", "fsub", "fmul", "fdiv"]
            return Format.instruction(names[Int(i.funct7 >> 2)] + p, fd, fs1, fs2) + RoundingMode.suffix(rm)
        case 0x0b:
            guard i.rs2 == 0 else { return nil }
            return Format.instruction("fsqrt" + p, fd, fs1) + RoundingMode.suffix(rm)
        case 0x04:
            let names: [String?] = ["fsgnj", "fsgnjn", "fsgnjx", nil, nil, nil, nil, nil]
            guard let name = names[Int(rm)] else { return nil }
            return Format.instruction(name + p, fd, fs1, fs2)
        case 0x05:
            let names: [String?] = ["fmin", "fmax", nil, nil, nil, nil, nil, nil]
            guard let name = names[Int(rm)] else { return nil }
            return Format.instruction(name + p, fd, fs1, fs2)
        case 0x08:
            // fcvt.s.d (rs2 = 1, any rounding mode) and fcvt.d.s (rs2 = 0, exact: rm must be 0).
            if !isDouble, i.rs2 == 1 {
                return Format.instruction("fcvt.s.d", fd, fs1) + RoundingMode.suffix(rm)
            }
            if isDouble, i.rs2 == 0, rm == 0 {
                return Format.instruction("fcvt.d.s", fd, fs1)
            }
            return nil
        case 0x14:
            let names: [String?] = ["fle", "flt", "feq", nil, nil, nil, nil, nil]
            guard let name = names[Int(rm)] else { return nil }
            return Format.instruction(name + p, xd, fs1, fs2)
        case 0x18:
            // Float to integer: fcvt.{w,wu,l,lu}.{s,d}.
            let names: [String?] = ["w", "wu", "l", "lu"]
            guard i.rs2 < names.count, let name = names[i.rs2] else { return nil }
            return Format.instruction("fcvt." + name + p, xd, fs1) + RoundingMode.suffix(rm)
        case 0x1a:
            // Integer to float: fcvt.{s,d}.{w,wu,l,lu}. The 32-bit to double conversions are
            // exact, so they take no rounding mode and require rm = 0.
            let names: [String?] = ["w", "wu", "l", "lu"]
            guard i.rs2 < names.count, let name = names[i.rs2] else { return nil }
            let mnemonic = "fcvt" + p + "." + name
            if isDouble, i.rs2 < 2 {
                return rm == 0 ? Format.instruction(mnemonic, fd, xs1) : nil
            }
            return Format.instruction(mnemonic, fd, xs1) + RoundingMode.suffix(rm)
        case 0x1c:
            guard i.rs2 == 0 else { return nil }
            switch rm {
            case 0: return Format.instruction(isDouble ? "fmv.x.d" : "fmv.x.w", xd, fs1)
            case 1: return Format.instruction("fclass" + p, xd, fs1)
            default: return nil
            }
        case 0x1e:
            guard i.rs2 == 0, rm == 0 else { return nil }
            return Format.instruction(isDouble ? "fmv.d.x" : "fmv.w.x", fd, xs1)
        default:
            return nil
        }
    }
}
