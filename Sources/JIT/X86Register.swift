/// One of the sixteen x86-64 general-purpose registers, named by its 64-bit name.
///
/// The raw value is the register's number in the encoding: the low three bits go into a ModRM,
/// SIB or opcode field and the fourth into a REX prefix bit (R, X or B), so `r8`-`r15` always
/// need a REX prefix. The same register is used at every operand size (`rax` is also `eax`, `ax`
/// and `al`); the size comes from the instruction. At byte size, numbers 4-7 mean `spl`, `bpl`,
/// `sil`, `dil` only when a REX prefix is present (without one they mean `ah`, `ch`, `dh`, `bh`,
/// which this encoder never produces), so `X86Assembler` adds an empty REX prefix for them.
///
/// As a memory base, `rsp` and `r12` (low bits 100) can only be encoded with a SIB byte, and
/// `rbp` and `r13` (low bits 101) only with a displacement; `X86Assembler` handles both. `rsp`
/// cannot be an index register.
public enum X86Register: UInt8, CaseIterable, Sendable {
    case rax = 0, rcx, rdx, rbx, rsp, rbp, rsi, rdi
    case r8, r9, r10, r11, r12, r13, r14, r15

    /// The low three bits of the register number (the ModRM/SIB/opcode field).
    var low3: UInt8 { rawValue & 7 }

    /// The fourth bit of the register number (a REX prefix's R, X or B bit).
    var high: UInt8 { rawValue >> 3 }

    /// True for the registers whose byte form needs a REX prefix to be addressable at all:
    /// `spl`, `bpl`, `sil`, `dil` (without REX, their numbers name `ah`..`bh`).
    var byteFormNeedsREX: Bool { (4 ... 7).contains(rawValue) }
}
