import RISCV

/// How a translated block ended: its return value (in `eax`).
enum BlockExit: Int {
    /// The block ran to its end (a jump, a branch, the end of its page or its maximum length);
    /// the pc is the next block's.
    case next = 0
    /// The instruction at the pc must run on the interpreter (one the translator does not
    /// handle, a load or store that missed the TLBs or would cross a page, ...).
    case interpret = 1
    /// The budget was smaller than the block: nothing ran.
    case budget = 2
}

/// The code of one block and what it covers.
struct TranslatedCode {
    /// x86-64 code: `@convention(c) (registers, budget) -> BlockExit.rawValue` (see ``BlockTranslator``).
    var bytes: [UInt8]
    /// Guest instructions in the block.
    var instructionCount: Int
    /// The page offset just past the block's last instruction.
    var endOffset: Int
}

/// Translates one block of guest instructions (RV64I, M, their compressed forms; loads and
/// stores of RAM) into x86-64 code, one template per instruction.
///
/// The code is called with the hart's register block in `rdi` (``Hart/registerBlock``: x0-x31
/// and the sink at `8 * i`, then the TLBs and the state) and the instructions it may retire in
/// `rsi`. Guest registers stay in the block in memory, so the state is precise at every
/// instruction boundary: an exit only stores the pc of the next instruction and adds the
/// instructions retired so far to the count, both known when the exit is emitted. The code uses
/// only `rax`, `rcx`, `rdx`, `r8` besides `rdi` and `rsi`: all caller-saved, no stack.
struct BlockTranslator {
    /// The most instructions in one block.
    static let maximumInstructions = 64
    static let pageSize = 4096

    private var assembler = X86Assembler()
    /// Where the block being translated will start in the code buffer, and the host address of
    /// the word where an exit that may be chained records its jump's rel32 field (see
    /// ``emitExit(pc:retired:code:)``).
    private var base = 0
    private var chainRecord: UInt = 0
    /// The virtual page of the block's first instruction: exits to a pc on it may be chained.
    private var page: UInt64 = 0
    /// Exits to the interpreter at an instruction (pc, instructions retired before it), emitted
    /// after the block's straight-line code.
    private var exits: [(label: X86Label, pc: UInt64, retired: Int)] = []

    /// Translates the block starting at virtual `pc`, whose page's bytes start at `page` (the
    /// instruction is at `pageOffset`). Returns nil when the first instruction is not handled
    /// (the interpreter runs it).
    ///
    /// `base` is the offset in the code buffer where the code will be placed and `chainRecord`
    /// the host address of a word: an exit to a fixed pc on the block's own page stores there
    /// the buffer offset of its jump's rel32 field, which the caller may patch to jump straight
    /// to the next block (direct chaining within a page).
    mutating func translate(page bytes: UnsafeRawPointer, pageOffset: Int, pc: UInt64, base: Int, chainRecord: UInt) -> TranslatedCode? {
        let instructions = Self.scan(page: bytes, pageOffset: pageOffset)
        guard !instructions.list.isEmpty else { return nil }
        assembler.reset()
        exits.removeAll(keepingCapacity: true)
        self.base = base
        self.chainRecord = chainRecord
        self.page = pc & ~UInt64(Self.pageSize - 1)

        let count = instructions.list.count
        let short = assembler.newLabel()
        // Exact counting: a block longer than the budget runs nothing. The budget (rsi) goes
        // down by the block's length, for the next block when chained.
        assembler.arithmetic(.sub, .qword, .rsi, imm: Int32(count))
        assembler.jcc(.b, short)

        var instructionPC = pc
        var endsInJump = false
        for (index, instruction) in instructions.list.enumerated() {
            endsInJump = emit(instruction, pc: instructionPC, index: index, count: count)
            instructionPC &+= UInt64(instruction.length)
        }
        if !endsInJump {
            emitExit(pc: instructionPC, retired: count, code: instructions.stoppedAtUnhandled ? .interpret : .next)
        }
        for exit in exits {
            bind(exit.label)
            emitExit(pc: exit.pc, retired: exit.retired, code: .interpret)
        }
        bind(short)
        // Entered by a chained jump, the pc is not stored yet.
        storePC(pc)
        assembler.mov(.dword, .rax, imm: Int64(BlockExit.budget.rawValue))
        assembler.ret()
        do {
            return TranslatedCode(bytes: try assembler.finish(), instructionCount: count,
                                  endOffset: pageOffset + instructions.list.reduce(0) { $0 + $1.length })
        } catch {
            preconditionFailure("the block translator left a label unbound: \(error)")
        }
    }

    /// The instructions of the block at `pageOffset`: up to the first jump or branch (included),
    /// the first instruction not handled (excluded; `stoppedAtUnhandled`), the end of the page
    /// or ``maximumInstructions``.
    static func scan(page: UnsafeRawPointer, pageOffset: Int) -> (list: [AcceleratorInstruction], stoppedAtUnhandled: Bool) {
        var list: [AcceleratorInstruction] = []
        var offset = pageOffset
        while list.count < maximumInstructions && offset + 2 <= pageSize {
            let low = page.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
            var high: UInt16 = 0
            if low & 3 == 3 {
                // A 32-bit instruction straddling the page end is the interpreter's.
                guard offset + 4 <= pageSize else { return (list, true) }
                high = page.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)
            }
            let instruction = AcceleratorInstruction(low: low, high: high)
            guard handles(instruction.op) else { return (list, true) }
            list.append(instruction)
            offset += instruction.length
            if endsBlock(instruction.op) { break }
        }
        return (list, false)
    }

    /// Whether the translator emits code for `op` (everything else ends the block).
    static func handles(_ op: Op) -> Bool {
        switch op {
        case .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu,
             .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai,
             .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .addiw, .slliw, .srliw, .sraiw, .addw, .subw, .sllw, .srlw, .sraw, .fence,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu, .mulw, .divw, .divuw, .remw, .remuw,
             .cAddi, .cAddiw, .cLui, .cSlli, .cSrli, .cSrai, .cAndi, .cAdd, .cSub, .cXor, .cOr, .cAnd, .cSubw, .cAddw,
             .cLw, .cLd, .cSw, .cSd, .cJal, .cJalr, .cJr, .cBeq, .cBne:
            return true
        default:
            return false
        }
    }

    static func endsBlock(_ op: Op) -> Bool {
        switch op {
        case .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu, .cJal, .cJalr, .cJr, .cBeq, .cBne: return true
        default: return false
        }
    }

    // MARK: - Emission

    private func register(_ index: Int) -> X86Memory {
        X86Memory(base: .rdi, displacement: Int32(8 * index))
    }

    private mutating func bind(_ label: X86Label) {
        do { try assembler.bind(label) } catch { preconditionFailure("the block translator bound a label twice: \(error)") }
    }

    private mutating func storePC(_ pc: UInt64) {
        if let small = Int32(exactly: Int64(bitPattern: pc)) {
            assembler.mov(.qword, X86Memory(base: .rdi, displacement: Int32(Hart.acceleratorPCOffset)), imm: small)
        } else {
            assembler.mov(.qword, .rax, imm: Int64(bitPattern: pc))
            assembler.mov(.qword, X86Memory(base: .rdi, displacement: Int32(Hart.acceleratorPCOffset)), .rax)
        }
    }

    /// Adds `retired` to the count, stores `pc` as the hart's pc and returns `code`.
    ///
    /// A `.next` exit to a pc on the block's own page goes through a `jmp` that the caller may
    /// patch to jump to the block at that pc (then the pc is not stored: that block's budget
    /// exit stores it). Until then the jump leads here, and this exit records where its rel32
    /// field is (``translate(page:pageOffset:pc:base:chainRecord:)``).
    private mutating func emitExit(pc: UInt64, retired: Int, code: BlockExit) {
        if retired > 0 {
            assembler.arithmetic(.add, .qword, X86Memory(base: .rdi, displacement: Int32(Hart.acceleratorInstretOffset)), imm: Int32(retired))
        }
        if code == .next && pc & ~UInt64(Self.pageSize - 1) == page {
            let stub = assembler.newLabel()
            assembler.jmp(stub)
            let field = base + assembler.offset - 4
            bind(stub)
            assembler.mov(.qword, .rcx, imm: Int64(bitPattern: UInt64(chainRecord)))
            assembler.mov(.qword, X86Memory(base: .rcx), imm: Int32(field))
        }
        storePC(pc)
        assembler.mov(.dword, .rax, imm: Int64(code.rawValue))
        assembler.ret()
    }

    /// `register += imm` for a 64-bit immediate.
    private mutating func addImmediate(_ target: X86Register, _ imm: Int64) {
        guard imm != 0 else { return }
        if let small = Int32(exactly: imm) {
            assembler.arithmetic(.add, .qword, target, imm: small)
        } else {
            assembler.mov(.qword, .rcx, imm: imm)
            assembler.arithmetic(.add, .qword, target, .rcx)
        }
    }

    /// `rax = x[rs1] op imm`, for immediates of I-type instructions (12 bits, so they fit 32).
    private mutating func immediate(_ operation: X86ArithmeticOperation, _ size: X86OperandSize, _ i: AcceleratorInstruction) {
        assembler.mov(size, .rax, register(i.rs1))
        assembler.arithmetic(operation, size, .rax, imm: Int32(truncatingIfNeeded: i.imm))
    }

    /// `rax = x[rs1] op x[rs2]`.
    private mutating func binary(_ operation: X86ArithmeticOperation, _ size: X86OperandSize, _ i: AcceleratorInstruction) {
        assembler.mov(size, .rax, register(i.rs1))
        assembler.arithmetic(operation, size, .rax, register(i.rs2))
    }

    private mutating func store(_ source: X86Register, to rd: Int) {
        // x0 writes land in the sink (the decoder redirects rd = 0; checked again here).
        assembler.mov(.qword, register(rd == 0 ? Hart.sinkRegister : rd), source)
    }

    /// `rax = x[rs1] shifted by x[rs2]` (x86 masks the count as RISC-V does: 6 bits, 5 for W).
    private mutating func shiftByRegister(_ operation: X86ShiftOperation, _ size: X86OperandSize, _ i: AcceleratorInstruction) {
        assembler.mov(size, .rax, register(i.rs1))
        assembler.mov(.dword, .rcx, register(i.rs2))
        assembler.shiftByCL(operation, size, .rax)
    }

    private mutating func compare(_ condition: X86Condition, _ i: AcceleratorInstruction, immediate: Bool) {
        assembler.mov(.qword, .rax, register(i.rs1))
        if immediate {
            assembler.arithmetic(.cmp, .qword, .rax, imm: Int32(truncatingIfNeeded: i.imm))
        } else {
            assembler.arithmetic(.cmp, .qword, .rax, register(i.rs2))
        }
        assembler.set(condition, zeroExtendingInto: .rcx)
        store(.rcx, to: i.rd)
    }

    /// `rax` = the host address of the access of `size` bytes at `x[rs1] + imm`, through the
    /// read (`write` false) or write TLB; a miss, a misaligned access or one that crosses the
    /// page goes to the interpreter at this instruction.
    private mutating func probe(_ i: AcceleratorInstruction, size: Int, write: Bool, pc: UInt64, index: Int) {
        assembler.mov(.qword, .rax, register(i.rs1))
        addImmediate(.rax, i.imm)
        assembler.mov(.qword, .rcx, .rax)
        assembler.shift(.shr, .qword, .rcx, by: 12)
        assembler.arithmetic(.and, .dword, .rcx, imm: Int32(Hart.acceleratorTLBEntries - 1))
        assembler.shift(.shl, .dword, .rcx, by: 4)
        // The tag has its low 12 bits clear: keeping the address's alignment bits makes a
        // misaligned access miss, as in the interpreter's fast loop.
        assembler.mov(.qword, .rdx, .rax)
        assembler.arithmetic(.and, .qword, .rdx, imm: Int32(truncatingIfNeeded: ~(Int64(0xFFF) & ~Int64(size - 1))))
        let table = Hart.acceleratorTLBOffset + (write ? Hart.acceleratorTLBTableBytes : 0)
        assembler.arithmetic(.cmp, .qword, .rdx, X86Memory(base: .rdi, index: .rcx, displacement: Int32(table)))
        let miss = assembler.newLabel()
        exits.append((miss, pc, index))
        assembler.jcc(.ne, miss)
        assembler.arithmetic(.add, .qword, .rax, X86Memory(base: .rdi, index: .rcx, displacement: Int32(table + 8)))
    }

    private mutating func load(_ i: AcceleratorInstruction, size: Int, signed: Bool, pc: UInt64, index: Int) {
        probe(i, size: size, write: false, pc: pc, index: index)
        let source = X86Memory(base: .rax)
        switch (size, signed) {
        case (1, true): assembler.movsx(.qword, .rdx, .byte, source)
        case (1, false): assembler.movzx(.dword, .rdx, .byte, source)
        case (2, true): assembler.movsx(.qword, .rdx, .word, source)
        case (2, false): assembler.movzx(.dword, .rdx, .word, source)
        case (4, true): assembler.movsxd(.rdx, source)
        case (4, false): assembler.mov(.dword, .rdx, source)
        default: assembler.mov(.qword, .rdx, source)
        }
        store(.rdx, to: i.rd)
    }

    private mutating func storeMemory(_ i: AcceleratorInstruction, size: Int, pc: UInt64, index: Int) {
        probe(i, size: size, write: true, pc: pc, index: index)
        assembler.mov(.qword, .rdx, register(i.rs2))
        let sizes: [Int: X86OperandSize] = [1: .byte, 2: .word, 4: .dword, 8: .qword]
        assembler.mov(sizes[size]!, X86Memory(base: .rax), .rdx)
    }

    /// A conditional branch: ends the block at the target or the next instruction.
    private mutating func branch(_ condition: X86Condition, _ i: AcceleratorInstruction, pc: UInt64, againstZero: Bool, count: Int) {
        assembler.mov(.qword, .rax, register(i.rs1))
        if againstZero {
            assembler.test(.qword, .rax, .rax)
        } else {
            assembler.arithmetic(.cmp, .qword, .rax, register(i.rs2))
        }
        let taken = assembler.newLabel()
        assembler.jcc(condition, taken)
        emitExit(pc: pc &+ UInt64(i.length), retired: count, code: .next)
        bind(taken)
        emitExit(pc: pc &+ UInt64(bitPattern: i.imm), retired: count, code: .next)
    }

    /// Division and remainder with RISC-V's results for a zero divisor and for overflow.
    private mutating func divide(_ i: AcceleratorInstruction, size: X86OperandSize, signed: Bool, remainder: Bool) {
        assembler.mov(size, .rax, register(i.rs1))
        assembler.mov(size, .rcx, register(i.rs2))
        let byZero = assembler.newLabel(), done = assembler.newLabel()
        assembler.test(size, .rcx, .rcx)
        assembler.jcc(.e, byZero)
        if signed {
            let byMinusOne = assembler.newLabel()
            assembler.arithmetic(.cmp, size, .rcx, imm: -1)
            assembler.jcc(.e, byMinusOne)
            if size == .qword { assembler.cqo() } else { assembler.cdq() }
            assembler.idiv(size, .rcx)
            assembler.jmp(done)
            // x / -1 = -x (wrapping: the most negative value stays), x % -1 = 0.
            bind(byMinusOne)
            if remainder { assembler.arithmetic(.xor, .dword, .rdx, .rdx) } else { assembler.neg(size, .rax) }
            assembler.jmp(done)
        } else {
            assembler.arithmetic(.xor, .dword, .rdx, .rdx)
            assembler.div(size, .rcx)
            assembler.jmp(done)
        }
        // x / 0 = all ones, x % 0 = x.
        bind(byZero)
        if remainder { assembler.mov(size, .rdx, .rax) } else { assembler.mov(size, .rax, imm: -1) }
        bind(done)
        let result: X86Register = remainder ? .rdx : .rax
        if size == .dword { assembler.movsxd(result, result) }
        store(result, to: i.rd)
    }

    /// Emits instruction `index` of `count`; returns true if it ended the block itself.
    private mutating func emit(_ i: AcceleratorInstruction, pc: UInt64, index: Int, count: Int) -> Bool {
        switch i.op {
        case .lui, .cLui:
            assembler.mov(.qword, .rax, imm: i.imm)
            store(.rax, to: i.rd)
        case .auipc:
            assembler.mov(.qword, .rax, imm: Int64(bitPattern: pc &+ UInt64(bitPattern: i.imm)))
            store(.rax, to: i.rd)
        case .jal, .cJal:
            assembler.mov(.qword, .rax, imm: Int64(bitPattern: pc &+ UInt64(i.length)))
            store(.rax, to: i.rd)
            emitExit(pc: pc &+ UInt64(bitPattern: i.imm), retired: count, code: .next)
            return true
        case .jalr, .cJalr, .cJr:
            // The target first: rd may be rs1.
            assembler.mov(.qword, .rax, register(i.rs1))
            addImmediate(.rax, i.imm)
            assembler.arithmetic(.and, .qword, .rax, imm: -2)
            assembler.mov(.qword, .rcx, imm: Int64(bitPattern: pc &+ UInt64(i.length)))
            store(.rcx, to: i.rd)
            assembler.mov(.qword, X86Memory(base: .rdi, displacement: Int32(Hart.acceleratorPCOffset)), .rax)
            assembler.arithmetic(.add, .qword, X86Memory(base: .rdi, displacement: Int32(Hart.acceleratorInstretOffset)), imm: Int32(count))
            assembler.mov(.dword, .rax, imm: Int64(BlockExit.next.rawValue))
            assembler.ret()
            return true
        case .beq: branch(.e, i, pc: pc, againstZero: false, count: count); return true
        case .bne: branch(.ne, i, pc: pc, againstZero: false, count: count); return true
        case .blt: branch(.l, i, pc: pc, againstZero: false, count: count); return true
        case .bge: branch(.ge, i, pc: pc, againstZero: false, count: count); return true
        case .bltu: branch(.b, i, pc: pc, againstZero: false, count: count); return true
        case .bgeu: branch(.ae, i, pc: pc, againstZero: false, count: count); return true
        case .cBeq: branch(.e, i, pc: pc, againstZero: true, count: count); return true
        case .cBne: branch(.ne, i, pc: pc, againstZero: true, count: count); return true

        case .lb: load(i, size: 1, signed: true, pc: pc, index: index)
        case .lbu: load(i, size: 1, signed: false, pc: pc, index: index)
        case .lh: load(i, size: 2, signed: true, pc: pc, index: index)
        case .lhu: load(i, size: 2, signed: false, pc: pc, index: index)
        case .lw, .cLw: load(i, size: 4, signed: true, pc: pc, index: index)
        case .lwu: load(i, size: 4, signed: false, pc: pc, index: index)
        case .ld, .cLd: load(i, size: 8, signed: true, pc: pc, index: index)
        case .sb: storeMemory(i, size: 1, pc: pc, index: index)
        case .sh: storeMemory(i, size: 2, pc: pc, index: index)
        case .sw, .cSw: storeMemory(i, size: 4, pc: pc, index: index)
        case .sd, .cSd: storeMemory(i, size: 8, pc: pc, index: index)

        case .addi, .cAddi:
            assembler.mov(.qword, .rax, register(i.rs1))
            addImmediate(.rax, i.imm)
            store(.rax, to: i.rd)
        case .slti: compare(.l, i, immediate: true)
        case .sltiu: compare(.b, i, immediate: true)
        case .xori: immediate(.xor, .qword, i); store(.rax, to: i.rd)
        case .ori: immediate(.or, .qword, i); store(.rax, to: i.rd)
        case .andi, .cAndi: immediate(.and, .qword, i); store(.rax, to: i.rd)
        case .slli, .cSlli, .srli, .cSrli, .srai, .cSrai:
            let operation: X86ShiftOperation = (i.op == .slli || i.op == .cSlli) ? .shl : (i.op == .srli || i.op == .cSrli) ? .shr : .sar
            assembler.mov(.qword, .rax, register(i.rs1))
            assembler.shift(operation, .qword, .rax, by: UInt8(i.imm & 63))
            store(.rax, to: i.rd)
        case .add, .cAdd: binary(.add, .qword, i); store(.rax, to: i.rd)
        case .sub, .cSub: binary(.sub, .qword, i); store(.rax, to: i.rd)
        case .xor, .cXor: binary(.xor, .qword, i); store(.rax, to: i.rd)
        case .or, .cOr: binary(.or, .qword, i); store(.rax, to: i.rd)
        case .and, .cAnd: binary(.and, .qword, i); store(.rax, to: i.rd)
        case .slt: compare(.l, i, immediate: false)
        case .sltu: compare(.b, i, immediate: false)
        case .sll: shiftByRegister(.shl, .qword, i); store(.rax, to: i.rd)
        case .srl: shiftByRegister(.shr, .qword, i); store(.rax, to: i.rd)
        case .sra: shiftByRegister(.sar, .qword, i); store(.rax, to: i.rd)

        case .addiw, .cAddiw:
            immediate(.add, .dword, i)
            assembler.movsxd(.rax, .rax)
            store(.rax, to: i.rd)
        case .slliw, .srliw, .sraiw:
            let operation: X86ShiftOperation = i.op == .slliw ? .shl : i.op == .srliw ? .shr : .sar
            assembler.mov(.dword, .rax, register(i.rs1))
            assembler.shift(operation, .dword, .rax, by: UInt8(i.imm & 31))
            assembler.movsxd(.rax, .rax)
            store(.rax, to: i.rd)
        case .addw, .cAddw, .subw, .cSubw:
            binary(i.op == .addw || i.op == .cAddw ? .add : .sub, .dword, i)
            assembler.movsxd(.rax, .rax)
            store(.rax, to: i.rd)
        case .sllw, .srlw, .sraw:
            shiftByRegister(i.op == .sllw ? .shl : i.op == .srlw ? .shr : .sar, .dword, i)
            assembler.movsxd(.rax, .rax)
            store(.rax, to: i.rd)

        case .mul, .mulw:
            let size: X86OperandSize = i.op == .mul ? .qword : .dword
            assembler.mov(size, .rax, register(i.rs1))
            assembler.mov(size, .rcx, register(i.rs2))
            assembler.imul(size, .rax, .rcx)
            if size == .dword { assembler.movsxd(.rax, .rax) }
            store(.rax, to: i.rd)
        case .mulh, .mulhu, .mulhsu:
            assembler.mov(.qword, .rax, register(i.rs1))
            assembler.mov(.qword, .rcx, register(i.rs2))
            if i.op == .mulh {
                assembler.imul(.qword, .rcx)
            } else {
                if i.op == .mulhsu { assembler.mov(.qword, .r8, .rax) }
                assembler.mul(.qword, .rcx)
                if i.op == .mulhsu {
                    // signed(a) * unsigned(b): the unsigned high half, minus b when a < 0.
                    assembler.shift(.sar, .qword, .r8, by: 63)
                    assembler.arithmetic(.and, .qword, .r8, .rcx)
                    assembler.arithmetic(.sub, .qword, .rdx, .r8)
                }
            }
            store(.rdx, to: i.rd)
        case .div: divide(i, size: .qword, signed: true, remainder: false)
        case .divu: divide(i, size: .qword, signed: false, remainder: false)
        case .rem: divide(i, size: .qword, signed: true, remainder: true)
        case .remu: divide(i, size: .qword, signed: false, remainder: true)
        case .divw: divide(i, size: .dword, signed: true, remainder: false)
        case .divuw: divide(i, size: .dword, signed: false, remainder: false)
        case .remw: divide(i, size: .dword, signed: true, remainder: true)
        case .remuw: divide(i, size: .dword, signed: false, remainder: true)

        case .fence:
            break   // one hart, accesses in program order: nothing to do (as in the interpreter)
        default:
            preconditionFailure("the block translator was given \(i.op), which it does not handle")
        }
        return false
    }
}
