/// Disassembly of 32-bit instructions: dispatch on the major opcode, and the RV64I and M
/// integer instructions. Floating-point, atomic and SYSTEM instructions are in their own files.
enum Disassembler {
    typealias X = Registers

    /// Disassembles the 32-bit instruction `bits` located at `pc`.
    static func disassemble(_ bits: UInt32, pc: UInt64) -> String {
        let i = InstructionFields(bits)
        let text: String?
        switch i.opcode {
        case 0x37: text = Format.instruction("lui", X.x(i.rd), Format.hex(i.uImmediate))
        case 0x17: text = Format.instruction("auipc", X.x(i.rd), Format.hex(i.uImmediate))
        case 0x6f: text = Format.instruction("jal", X.x(i.rd), Format.target(pc: pc, offset: i.jImmediate))
        case 0x67: text = jalr(i)
        case 0x63: text = branch(i, pc: pc)
        case 0x03: text = load(i)
        case 0x23: text = store(i)
        case 0x13: text = operationImmediate(i)
        case 0x1b: text = operationImmediateWord(i)
        case 0x33: text = operation(i)
        case 0x3b: text = operationWord(i)
        case 0x0f: text = miscMem(i)
        case 0x73: text = SystemDisassembler.disassemble(i)
        case 0x2f: text = AtomicDisassembler.disassemble(i)
        case 0x07, 0x27, 0x43, 0x47, 0x4b, 0x4f, 0x53: text = FloatingPointDisassembler.disassemble(i)
        default: text = nil
        }
        return text ?? RISCVDisassembler.unknown
    }

    private static func jalr(_ i: InstructionFields) -> String? {
        guard i.funct3 == 0 else { return nil }
        return Format.instruction("jalr", X.x(i.rd), Format.memory(i.iImmediate, X.x(i.rs1)))
    }

    private static let branchNames: [String?] = ["beq", "bne", nil, nil, "blt", "bge", "bltu", "bgeu"]

    private static func branch(_ i: InstructionFields, pc: UInt64) -> String? {
        guard let name = branchNames[Int(i.funct3)] else { return nil }
        return Format.instruction(name, X.x(i.rs1), X.x(i.rs2), Format.target(pc: pc, offset: i.bImmediate))
    }

    private static let loadNames: [String?] = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", nil]

    private static func load(_ i: InstructionFields) -> String? {
        guard let name = loadNames[Int(i.funct3)] else { return nil }
        return Format.instruction(name, X.x(i.rd), Format.memory(i.iImmediate, X.x(i.rs1)))
    }

    private static let storeNames: [String?] = ["sb", "sh", "sw", "sd", nil, nil, nil, nil]

    private static func store(_ i: InstructionFields) -> String? {
        guard let name = storeNames[Int(i.funct3)] else { return nil }
        return Format.instruction(name, X.x(i.rs2), Format.memory(i.sImmediate, X.x(i.rs1)))
    }

    private static let immediateNames: [String?] = ["addi", nil, "slti", "sltiu", "xori", nil, "ori", "andi"]

    private static func operationImmediate(_ i: InstructionFields) -> String? {
        let shamt = Format.hex((i.bits >> 20) & 0x3f)
        let funct6 = i.bits >> 26
        switch i.funct3 {
        case 1:
            return funct6 == 0 ? Format.instruction("slli", X.x(i.rd), X.x(i.rs1), shamt) : nil
        case 5:
            switch funct6 {
            case 0x00: return Format.instruction("srli", X.x(i.rd), X.x(i.rs1), shamt)
            case 0x10: return Format.instruction("srai", X.x(i.rd), X.x(i.rs1), shamt)
            default: return nil
            }
        default:
            guard let name = immediateNames[Int(i.funct3)] else { return nil }
            return Format.instruction(name, X.x(i.rd), X.x(i.rs1), String(i.iImmediate))
        }
    }

    private static func operationImmediateWord(_ i: InstructionFields) -> String? {
        let shamt = Format.hex((i.bits >> 20) & 0x1f)
        switch (i.funct3, i.funct7) {
        case (0, _): return Format.instruction("addiw", X.x(i.rd), X.x(i.rs1), String(i.iImmediate))
        case (1, 0x00): return Format.instruction("slliw", X.x(i.rd), X.x(i.rs1), shamt)
        case (5, 0x00): return Format.instruction("srliw", X.x(i.rd), X.x(i.rs1), shamt)
        case (5, 0x20): return Format.instruction("sraiw", X.x(i.rd), X.x(i.rs1), shamt)
        default: return nil
        }
    }

    /// OP names indexed by funct3, for funct7 = 0x00, 0x20 and 0x01 (M extension).
    private static let operationNames: [UInt32: [String?]] = [
        0x00: ["add", "sll", "slt", "sltu", "xor", "srl", "or", "and"],
        0x20: ["sub", nil, nil, nil, nil, "sra", nil, nil],
        0x01: ["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"],
    ]

    /// OP-32 names indexed by funct3, for funct7 = 0x00, 0x20 and 0x01 (M extension).
    private static let operationWordNames: [UInt32: [String?]] = [
        0x00: ["addw", "sllw", nil, nil, nil, "srlw", nil, nil],
        0x20: ["subw", nil, nil, nil, nil, "sraw", nil, nil],
        0x01: ["mulw", nil, nil, nil, "divw", "divuw", "remw", "remuw"],
    ]

    private static func operation(_ i: InstructionFields) -> String? {
        registerRegister(i, operationNames)
    }

    private static func operationWord(_ i: InstructionFields) -> String? {
        registerRegister(i, operationWordNames)
    }

    private static func registerRegister(_ i: InstructionFields, _ names: [UInt32: [String?]]) -> String? {
        guard let row = names[i.funct7], let name = row[Int(i.funct3)] else { return nil }
        return Format.instruction(name, X.x(i.rd), X.x(i.rs1), X.x(i.rs2))
    }

    /// MISC-MEM: `fence`, `fence.tso` and `fence.i`.
    private static func miscMem(_ i: InstructionFields) -> String? {
        guard i.rd == 0, i.rs1 == 0 else { return nil }
        switch i.funct3 {
        case 0:
            if i.bits == 0x8330_000f { return "fence.tso" }
            guard i.bits >> 28 == 0 else { return nil }
            return Format.instruction("fence", FenceOrdering.name(i.bits >> 24), FenceOrdering.name(i.bits >> 20))
        case 1:
            return i.bits >> 20 == 0 ? "fence.i" : nil
        default:
            return nil
        }
    }
}
