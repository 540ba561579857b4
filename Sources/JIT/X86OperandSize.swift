/// The width of an instruction's operands: selects the opcode (byte forms are separate opcodes),
/// the `0x66` operand-size prefix (16 bits) or the REX.W bit (64 bits).
///
/// A 32-bit result written to a register clears the register's upper 32 bits; 8- and 16-bit
/// results leave the rest of the register unchanged.
public enum X86OperandSize: Int, CaseIterable, Sendable, Comparable {
    case byte = 8, word = 16, dword = 32, qword = 64

    /// The number of bits.
    public var bits: Int { rawValue }

    /// The number of bytes an immediate or memory operand of this size takes (8 for `qword`,
    /// although most instructions take at most a sign-extended 32-bit immediate).
    public var bytes: Int { rawValue / 8 }

    public static func < (lhs: X86OperandSize, rhs: X86OperandSize) -> Bool { lhs.rawValue < rhs.rawValue }
}
