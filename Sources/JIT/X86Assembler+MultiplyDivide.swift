extension X86Assembler {
    /// `imul dst, src`: the low half of a signed (equally unsigned) product (0F AF); `word`,
    /// `dword` or `qword`.
    public mutating func imul(_ size: X86OperandSize, _ destination: X86Register, _ source: X86Register) {
        precondition(size != .byte, "the two-operand imul has no 8-bit form")
        startInstruction()
        emit(size: size, escaped: true, opcode: 0xAF, reg: destination.rawValue, rm: .register(source))
    }

    /// `imul dst, src, imm`: `src * imm` into `dst` (6B with an 8-bit immediate where it fits,
    /// else 69; a `qword` product takes a sign-extended 32-bit immediate).
    public mutating func imul(_ size: X86OperandSize, _ destination: X86Register, _ source: X86Register, imm immediate: Int32) {
        precondition(size != .byte, "the three-operand imul has no 8-bit form")
        let value = Int64(immediate)
        Self.checkImmediate(value, fits: size)
        startInstruction()
        let short = Self.fitsSignExtendedByte(value, size)
        emit(size: size, opcode: short ? 0x6B : 0x69, reg: destination.rawValue, rm: .register(source))
        littleEndian(value, count: short ? 1 : Self.fullImmediateCount(size))
    }

    /// `mul src`: the unsigned double-width product of the accumulator and `src` into
    /// `rdx:rax` (`edx:eax`, `dx:ax`; `ax` for `byte`).
    public mutating func mul(_ size: X86OperandSize, _ source: X86Register) {
        group3(4, size, source)
    }

    /// `imul src`: the signed double-width product of the accumulator and `src` into `rdx:rax`.
    public mutating func imul(_ size: X86OperandSize, _ source: X86Register) {
        group3(5, size, source)
    }

    /// `div src`: unsigned `rdx:rax / src`, quotient in `rax`, remainder in `rdx`. Raises #DE on
    /// a zero divisor or a quotient that overflows: the translator must test for those first.
    public mutating func div(_ size: X86OperandSize, _ source: X86Register) {
        group3(6, size, source)
    }

    /// `idiv src`: signed `rdx:rax / src`. Raises #DE on a zero divisor and on
    /// `Int.min / -1`: the translator must test for both first (RISC-V defines results for them).
    public mutating func idiv(_ size: X86OperandSize, _ source: X86Register) {
        group3(7, size, source)
    }

    /// `cdq`: sign-extends `eax` into `edx` (before a 32-bit `idiv`).
    public mutating func cdq() {
        startInstruction()
        byte(0x99)
    }

    /// `cqo`: sign-extends `rax` into `rdx` (before a 64-bit `idiv`).
    public mutating func cqo() {
        startInstruction()
        bytes.append(contentsOf: [0x48, 0x99])
    }

    /// `cdqe`: sign-extends `eax` into `rax` (a 2-byte `movsxd rax, eax`).
    public mutating func cdqe() {
        startInstruction()
        bytes.append(contentsOf: [0x48, 0x98])
    }
}
