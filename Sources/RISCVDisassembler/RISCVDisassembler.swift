/// Text disassembly of RV64IMAFDC + Zicsr + Zifencei instructions (plus the privileged
/// `mret`, `sret`, `wfi`, `sfence.vma`, `ecall` and `ebreak`), for `lockstep run --trace`
/// and diagnostics.
///
/// The output matches what GNU `objdump -M no-aliases` prints for the same encoding
/// (ABI register names, canonical mnemonics, CSR names, absolute branch targets), with a
/// single space between the mnemonic and its operands. Encodings that are not valid
/// instructions of these extensions disassemble to `"unknown"`.
///
/// Every input is accepted: disassembly never traps, whatever the bits.
public enum RISCVDisassembler {
    /// The text printed for an encoding that is not a valid instruction.
    public static let unknown = "unknown"

    /// Disassembles one instruction.
    ///
    /// - Parameters:
    ///   - bits: The instruction. If its low two bits are not `0b11` it is a 16-bit compressed
    ///     instruction held in the low 16 bits (the high 16 bits are ignored); otherwise it is
    ///     a 32-bit instruction.
    ///   - pc: The address of the instruction, used to print absolute branch and jump targets.
    /// - Returns: The instruction's text, e.g. `"addi a0,a0,1"`, or `"unknown"`.
    public static func disassemble(_ bits: UInt32, pc: UInt64) -> String {
        if bits & 0b11 != 0b11 {
            return CompressedDisassembler.disassemble(UInt16(truncatingIfNeeded: bits), pc: pc)
        }
        return Disassembler.disassemble(bits, pc: pc)
    }

    /// Length in bytes (2 or 4) of the instruction whose low 16 bits are given.
    ///
    /// Instructions whose low two bits are `0b11` are 4 bytes long; all others are 2-byte
    /// compressed instructions. (Longer encodings are not part of RV64GC and are treated as
    /// 4-byte words that disassemble to `"unknown"`.)
    public static func length(ofInstructionStartingWith low16: UInt16) -> Int {
        low16 & 0b11 == 0b11 ? 4 : 2
    }
}
