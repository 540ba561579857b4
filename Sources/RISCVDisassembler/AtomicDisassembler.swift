/// Disassembly of the A extension (AMO major opcode): `lr`, `sc` and the `amo*` operations,
/// with `.aq`, `.rl` or `.aqrl` appended to the mnemonic for the ordering bits.
enum AtomicDisassembler {
    typealias X = Registers

    private static let operationNames: [UInt32: String] = [
        0x00: "amoadd", 0x01: "amoswap", 0x02: "lr", 0x03: "sc",
        0x04: "amoxor", 0x08: "amoor", 0x0c: "amoand",
        0x10: "amomin", 0x14: "amomax", 0x18: "amominu", 0x1c: "amomaxu",
    ]

    private static let orderingSuffixes = ["", ".aq", ".rl", ".aqrl"]

    /// Disassembles an instruction with the AMO major opcode, or returns nil if invalid.
    static func disassemble(_ i: InstructionFields) -> String? {
        let width: String
        switch i.funct3 {
        case 2: width = ".w"
        case 3: width = ".d"
        default: return nil
        }
        guard let operation = operationNames[i.funct5] else { return nil }
        // aq is bit 26, rl is bit 25.
        let aq = (i.bits >> 26) & 1, rl = (i.bits >> 25) & 1
        let mnemonic = operation + width + orderingSuffixes[Int(aq | rl << 1)]
        let address = "(" + X.x(i.rs1) + ")"
        if operation == "lr" {
            guard i.rs2 == 0 else { return nil }
            return Format.instruction(mnemonic, X.x(i.rd), address)
        }
        return Format.instruction(mnemonic, X.x(i.rd), X.x(i.rs2), address)
    }
}
