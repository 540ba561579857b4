/// One instruction decoded once and executed many times (16 bytes, one per 2-byte slot of a code page).
///
/// Register fields are indices into the register files. A destination of `x0` is redirected to
/// ``Decoder/sink`` at decode time so the executor writes without a branch and `x0` stays zero.
///
/// A fused pair (see `Fusion.swift`) packs two instructions into the slot of the first: `rs3`
/// and `rm` hold the branch's sources (or the skipped instruction's), `condition` the branch
/// condition, and `imm` two halves (see ``Fusion``).
@usableFromInline
struct DecodedInstruction {
    @usableFromInline var op: Op
    @usableFromInline var rd: UInt8
    @usableFromInline var rs1: UInt8
    @usableFromInline var rs2: UInt8
    @usableFromInline var rs3: UInt8
    /// Rounding-mode field for FP operations (7 = dynamic), aq/rl bits for atomics.
    @usableFromInline var rm: UInt8
    /// Instruction length in bytes: 2 or 4.
    @usableFromInline var length: UInt8
    /// For a fused pair with a conditional branch: bit 0 negates the condition, bit 1 makes the
    /// comparison signed (see ``Fusion``). Zero otherwise.
    @usableFromInline var condition: UInt8 = 0
    /// Sign-extended immediate, CSR number, shift amount or, for illegal instructions, the raw bits.
    @usableFromInline var imm: Int64

    @inlinable
    init(op: Op, rd: UInt8 = 0, rs1: UInt8 = 0, rs2: UInt8 = 0, rs3: UInt8 = 0, rm: UInt8 = 0, length: UInt8 = 4, imm: Int64 = 0) {
        self.op = op
        self.rd = rd
        self.rs1 = rs1
        self.rs2 = rs2
        self.rs3 = rs3
        self.rm = rm
        self.length = length
        self.imm = imm
    }

    @inlinable
    static func illegal(_ bits: UInt32, length: UInt8) -> DecodedInstruction {
        DecodedInstruction(op: .illegal, length: length, imm: Int64(bits))
    }
}
