/// Disassembly of the SYSTEM major opcode: the Zicsr instructions and the privileged
/// instructions (`ecall`, `ebreak`, `sret`, `mret`, `wfi`, `sfence.vma`, `dret`).
enum SystemDisassembler {
    typealias X = Registers

    private static let csrNames: [String?] = [nil, "csrrw", "csrrs", "csrrc", nil, "csrrwi", "csrrsi", "csrrci"]

    /// Whole-word privileged instructions without operands.
    private static let fixedEncodings: [UInt32: String] = [
        0x0000_0073: "ecall",
        0x0010_0073: "ebreak",
        // The N extension's `uret`, dropped from the privileged spec but still decoded by objdump.
        0x0020_0073: "uret",
        0x1020_0073: "sret",
        0x3020_0073: "mret",
        0x7b20_0073: "dret",
        0x1050_0073: "wfi",
        // `csrrw zero,cycle,zero`, the canonical 32-bit illegal instruction.
        0xc000_1073: "unimp",
    ]

    /// Disassembles an instruction with the SYSTEM major opcode, or returns nil if invalid.
    static func disassemble(_ i: InstructionFields) -> String? {
        if let name = fixedEncodings[i.bits] { return name }
        if i.funct3 == 0 {
            // sfence.vma rs1,rs2
            guard i.funct7 == 0x09, i.rd == 0 else { return nil }
            return Format.instruction("sfence.vma", X.x(i.rs1), X.x(i.rs2))
        }
        guard let name = csrNames[Int(i.funct3)] else { return nil }
        let source = i.funct3 >= 5 ? String(i.rs1) : X.x(i.rs1)
        return Format.instruction(name, X.x(i.rd), CSRNames.name(i.csr), source)
    }
}
