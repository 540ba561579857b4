/// The fields and immediates of a 32-bit instruction word.
struct InstructionFields {
    let bits: UInt32

    init(_ bits: UInt32) { self.bits = bits }

    /// Bits 6:0.
    var opcode: UInt32 { bits & 0x7f }
    /// Bits 11:7.
    var rd: Int { Int((bits >> 7) & 0x1f) }
    /// Bits 14:12 (also the rounding mode of floating-point instructions).
    var funct3: UInt32 { (bits >> 12) & 0x7 }
    /// Bits 19:15.
    var rs1: Int { Int((bits >> 15) & 0x1f) }
    /// Bits 24:20.
    var rs2: Int { Int((bits >> 20) & 0x1f) }
    /// Bits 31:27.
    var rs3: Int { Int(bits >> 27) }
    /// Bits 31:25.
    var funct7: UInt32 { bits >> 25 }
    /// Bits 31:27 (the operation of an atomic instruction).
    var funct5: UInt32 { bits >> 27 }
    /// Bits 26:25 (the format of a fused multiply-add).
    var fmt: UInt32 { (bits >> 25) & 0x3 }
    /// Bits 31:20, the CSR number of a Zicsr instruction.
    var csr: UInt32 { bits >> 20 }

    /// The sign-extended I-type immediate (bits 31:20).
    var iImmediate: Int32 { Int32(bitPattern: bits) >> 20 }

    /// The sign-extended S-type immediate.
    var sImmediate: Int32 {
        (Int32(bitPattern: bits) >> 25) << 5 | Int32((bits >> 7) & 0x1f)
    }

    /// The sign-extended B-type branch offset.
    var bImmediate: Int32 {
        let sign = (Int32(bitPattern: bits) >> 31) << 12
        let bit11 = Int32((bits >> 7) & 0x1) << 11
        let bits10to5 = Int32((bits >> 25) & 0x3f) << 5
        let bits4to1 = Int32((bits >> 8) & 0xf) << 1
        return sign | bit11 | bits10to5 | bits4to1
    }

    /// The U-type immediate's upper 20 bits (bits 31:12), as objdump prints them.
    var uImmediate: UInt32 { bits >> 12 }

    /// The sign-extended J-type jump offset.
    var jImmediate: Int32 {
        let sign = (Int32(bitPattern: bits) >> 31) << 20
        let bits19to12 = Int32((bits >> 12) & 0xff) << 12
        let bit11 = Int32((bits >> 20) & 0x1) << 11
        let bits10to1 = Int32((bits >> 21) & 0x3ff) << 1
        return sign | bits19to12 | bit11 | bits10to1
    }
}

/// Formatting shared by the 32-bit and compressed disassemblers.
enum Format {
    /// `mnemonic` followed by its comma-separated operands.
    static func instruction(_ mnemonic: String, _ operands: String...) -> String {
        operands.isEmpty ? mnemonic : mnemonic + " " + operands.joined(separator: ",")
    }

    /// `0x` followed by `value` in lower-case hexadecimal.
    static func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

    /// The absolute target of a pc-relative branch or jump, as objdump prints it.
    static func target(pc: UInt64, offset: Int32) -> String {
        hex(pc &+ UInt64(bitPattern: Int64(offset)))
    }

    /// A memory operand, `offset(base)`.
    static func memory(_ offset: Int32, _ base: String) -> String { "\(offset)(\(base))" }
}
