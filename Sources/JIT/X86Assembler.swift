/// A hand-written x86-64 encoder for the instructions a template translator needs: it appends
/// each instruction's bytes to `bytes` and records where each instruction starts.
///
/// Encodings are the ones GNU `as` chooses for the same instruction text (the tests compare them
/// byte for byte): register-to-register forms use the "r/m, reg" opcodes (`89`, `01`, ...),
/// immediates take the sign-extended 8-bit form when it fits and the accumulator short forms for
/// `rax`, displacements are omitted or 8-bit when they fit. `mov` of a 64-bit immediate picks
/// the shortest of the three forms that load the same value (see `mov(_:_:imm:)`).
///
/// The label of a jump is resolved when both the jump and the label's `bind(_:)` have been
/// emitted; `finish()` returns the code once every referenced label is bound.
///
/// Instructions that the hardware lacks (an 8-bit `imul`, a `qword` `movzx` source, `rsp` as an
/// index) stop the program with a precondition: they are bugs in the caller, not conditions to
/// handle. Label mistakes that only show later (a short jump too far, a label never bound) are
/// thrown as `X86AssemblerError`.
public struct X86Assembler: Sendable {
    /// The code emitted so far.
    public internal(set) var bytes: [UInt8] = []
    /// The offset in `bytes` at which each instruction starts, in emission order: one entry per
    /// instruction (per `nop` when padding), for the translator's host-pc to guest-instruction maps.
    public internal(set) var instructionOffsets: [Int] = []
    /// Each label's offset once it is bound, indexed by `X86Label.id`.
    var labelOffsets: [Int?] = []
    /// Jump and call fields waiting for their label to be bound.
    var pendingReferences: [LabelReference] = []

    /// A displacement field that refers to a label.
    struct LabelReference {
        var label: Int
        /// Where the field starts in `bytes`.
        var field: Int
        /// 1 (rel8) or 4 (rel32).
        var width: Int
        /// Where the instruction holding the field starts (for error messages).
        var instruction: Int
    }

    /// An empty assembler.
    public init() {}

    /// The offset at which the next instruction will start (the number of bytes emitted).
    public var offset: Int { bytes.count }

    /// Empties the assembler for the next block, keeping its storage: cheaper than a new one.
    /// Labels created before are invalid afterwards.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        instructionOffsets.removeAll(keepingCapacity: true)
        labelOffsets.removeAll(keepingCapacity: true)
        pendingReferences.removeAll(keepingCapacity: true)
    }

    // MARK: - Encoding primitives

    /// The second operand of an instruction with a ModRM byte.
    enum RegisterOrMemory {
        case register(X86Register)
        case memory(X86Memory)
    }

    /// Records the start of an instruction; every public instruction method calls it once.
    mutating func startInstruction() {
        instructionOffsets.append(bytes.count)
    }

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends the low `count` bytes of `value`, little-endian.
    mutating func littleEndian(_ value: Int64, count: Int) {
        for shift in stride(from: 0, to: count * 8, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> Int64(shift)))
        }
    }

    /// Emits the 0x66 prefix for 16-bit operands, a mandatory prefix (0xF3 of `popcnt`...) if
    /// any, then a REX prefix if one is needed: for a 64-bit size (W), for a register number 8-15
    /// in any field (R, X, B), or when `forceREX` says an 8-bit operand is `spl`, `bpl`, `sil` or
    /// `dil`.
    mutating func prefixes(size: X86OperandSize?, mandatory: UInt8? = nil,
                           reg: UInt8 = 0, index: X86Register? = nil, base: X86Register? = nil, forceREX: Bool = false) {
        if size == .word { byte(0x66) }
        if let mandatory { byte(mandatory) }
        let w: UInt8 = size == .qword ? 1 : 0
        let rex: UInt8 = 0x40 | w << 3 | (reg >> 3 & 1) << 2 | (index?.high ?? 0) << 1 | (base?.high ?? 0)
        if rex != 0x40 || forceREX { byte(rex) }
    }

    /// Emits a whole instruction with a ModRM byte (without its immediate): prefixes, REX, the
    /// opcode (after `0F` when `escaped`), ModRM, SIB and displacement. `reg` is a register
    /// number or an opcode extension (`/digit`).
    mutating func emit(size: X86OperandSize?, mandatory: UInt8? = nil, escaped: Bool = false, opcode: UInt8,
                       reg: UInt8, rm: RegisterOrMemory, forceREX: Bool = false) {
        switch rm {
        case .register(let register):
            prefixes(size: size, mandatory: mandatory, reg: reg, base: register, forceREX: forceREX)
        case .memory(let memory):
            prefixes(size: size, mandatory: mandatory, reg: reg, index: memory.index, base: memory.base, forceREX: forceREX)
        }
        if escaped { byte(0x0F) }
        byte(opcode)
        modRM(reg: reg, rm)
    }

    /// ModRM, and for memory operands the SIB byte and displacement.
    ///
    /// Mod 00 has no displacement, but with base bits 101 it means RIP-relative (or no base with
    /// a SIB), so `rbp`/`r13` take an 8-bit zero; r/m bits 100 mean "a SIB follows", so
    /// `rsp`/`r12` as a base always take a SIB byte with index 100 (none).
    mutating func modRM(reg: UInt8, _ rm: RegisterOrMemory) {
        let regBits = (reg & 7) << 3
        switch rm {
        case .register(let register):
            byte(0xC0 | regBits | register.low3)
        case .memory(let memory):
            let displacement = memory.displacement
            let mod: UInt8 = if displacement == 0 && memory.base.low3 != 5 { 0 }
                else if Int8(exactly: displacement) != nil { 1 }
                else { 2 }
            if memory.index != nil || memory.base.low3 == 4 {
                byte(mod << 6 | regBits | 4)
                byte(memory.scale.rawValue << 6 | (memory.index?.low3 ?? 4) << 3 | memory.base.low3)
            } else {
                byte(mod << 6 | regBits | memory.base.low3)
            }
            if mod == 1 { littleEndian(Int64(displacement), count: 1) }
            if mod == 2 { littleEndian(Int64(displacement), count: 4) }
        }
    }

    /// Whether an 8-bit operand in `register` needs a REX prefix (`spl`, `bpl`, `sil`, `dil`).
    static func byteNeedsREX(_ size: X86OperandSize, _ register: X86Register) -> Bool {
        size == .byte && register.byteFormNeedsREX
    }

    /// Whether either of two 8-bit operands needs a REX prefix.
    static func byteNeedsREX(_ size: X86OperandSize, _ first: X86Register, _ second: X86Register) -> Bool {
        size == .byte && (first.byteFormNeedsREX || second.byteFormNeedsREX)
    }

    /// Checks that `value` is representable in `size` bits, signed or unsigned.
    static func checkImmediate(_ value: Int64, fits size: X86OperandSize) {
        guard size != .qword else { return }
        let bits = Int64(size.bits)
        precondition(value >= -(1 << (bits - 1)) && value < 1 << bits,
                     "immediate \(value) does not fit in \(size.bits) bits")
    }

    /// The immediate as the processor will see it at `size`: truncated to the size, then
    /// sign-extended (so `0xFFFF` at word size is -1, which fits the 8-bit form).
    static func signExtended(_ value: Int64, at size: X86OperandSize) -> Int64 {
        switch size {
        case .byte: Int64(Int8(truncatingIfNeeded: value))
        case .word: Int64(Int16(truncatingIfNeeded: value))
        case .dword: Int64(Int32(truncatingIfNeeded: value))
        case .qword: value
        }
    }

    /// Whether a `size` operation can take `immediate` as a sign-extended imm8 (83, 6B): never
    /// for `byte`, whose immediate is a byte anyway.
    static func fitsSignExtendedByte(_ immediate: Int64, _ size: X86OperandSize) -> Bool {
        size != .byte && Int8(exactly: signExtended(immediate, at: size)) != nil
    }

    /// The size of an immediate that follows a full-size (not imm8) opcode: 1, 2 or 4 bytes
    /// (64-bit operations take a sign-extended 32-bit immediate).
    static func fullImmediateCount(_ size: X86OperandSize) -> Int {
        min(size.bytes, 4)
    }

    /// The opcode for `size`: byte operations use `base`, the others `base + 1`.
    static func sized(_ base: UInt8, _ size: X86OperandSize) -> UInt8 {
        size == .byte ? base : base + 1
    }
}
