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
    /// How often each guest register x0...x31 appears in the block's instructions.
    var registerUses: [Int]
}

/// Translates one block of guest instructions (RV64I, M, their compressed forms, the AMOs but
/// the min/max ones; loads, stores and AMOs of RAM) into x86-64 code, one template per
/// instruction.
///
/// The code runs under the entry trampoline (``BlockRuntime``), with the hart's register block
/// in `rdi` (``Hart/registerBlock``: x0-x31 and the sink at `8 * i`, then the TLBs and the
/// state) and the instructions it may retire in `rsi`. Each block's entry takes its length off
/// `rsi`; an exit before the block's end gives back the instructions it did not retire, and the
/// trampoline adds what the budget went down by to the count, so no exit touches the count in
/// memory.
///
/// The guest registers of the allocation (``GuestRegisterAllocation``, the same for every block
/// in the code buffer) live in their host registers throughout generated code, the others in
/// the register file in memory; ``BlockEntry`` loads the first before the call and stores them
/// when generated code returns. So the state is precise at every exit without writing anything
/// back: an exit stores the pc of the next instruction and gives back the instructions not
/// retired, both known when the exit is emitted. Scratch registers: `rax`, `rcx`, `rdx` (and the
/// sink register's slot in memory); the stack only to keep `r8` during a full inline lookup.
struct BlockTranslator {
    /// The most instructions in one block.
    static let maximumInstructions = 64
    static let pageSize = 4096

    /// Where the inline lookup of indirect jumps and exits to other pages reads (see
    /// ``emitLookup()``): the block table, the code versions of RAM's pages and RAM's host
    /// address, all fixed for the accelerator's memory.
    struct Lookup {
        var table: UInt
        var codeVersions: UInt
        var ramBase: UInt
        /// The address of the memory's code generation (``GuestMemory/codeGenerationAddress``).
        var codeGeneration: UInt
        /// Where each lookup site keeps the block its last target ran.
        var jumpTargets: JumpTargetCache
    }

    /// Set once the accelerator knows its memory; while nil, such exits return to the Swift loop.
    var lookup: Lookup?
    /// Which guest registers are in host registers (the entry's, for every block in the buffer).
    var allocation = GuestRegisterAllocation.initial

    private var assembler = X86Assembler()
    /// Where the block being translated will start in the code buffer, and the host address of
    /// the word where an exit that may be chained records its jump's rel32 field (see
    /// ``emitExit(pc:retired:code:)``).
    private var base = 0
    private var chainRecord: UInt = 0
    /// The virtual page of the block's first instruction: exits to a pc on it may be chained.
    private var page: UInt64 = 0
    /// The block's length: what its entry took off the budget.
    private var count = 0
    /// The virtual pc of the block's first instruction, and its entry (the budget check): an
    /// exit to the block's own pc (a loop) jumps there directly.
    private var blockPC: UInt64 = 0
    private var start = X86Label(id: 0)
    /// Exits before the block's end, emitted after its straight-line code: to the interpreter at
    /// an instruction (a load or store that misses the TLB), or to the next block at the target
    /// of a forward branch taken (pc, instructions retired before it, return code).
    private var exits: [(label: X86Label, pc: UInt64, retired: Int, code: BlockExit)] = []

    /// Translates the block starting at virtual `pc`, whose page's bytes start at `page` (the
    /// instruction is at `pageOffset`). Returns nil when the first instruction is not handled
    /// (the interpreter runs it).
    ///
    /// `base` is the offset in the code buffer where the code will be placed and `chainRecord`
    /// the host address of a word: an exit to a fixed pc on the block's own page stores there
    /// the buffer offset of its jump's rel32 field, which the caller may patch to jump straight
    /// to the next block (direct chaining within a page).
    ///
    /// With a `counter` (the host address of a `UInt64`), the block adds one to it each time it
    /// runs (``RegisterUseProfile``).
    mutating func translate(page bytes: UnsafeRawPointer, pageOffset: Int, pc: UInt64, base: Int, chainRecord: UInt,
                            counter: UInt? = nil) -> TranslatedCode? {
        let instructions = Self.scan(page: bytes, pageOffset: pageOffset)
        guard !instructions.list.isEmpty else { return nil }
        var registerUses = [Int](repeating: 0, count: 32)
        for instruction in instructions.list {
            GuestRegisterAllocation.count(instruction, into: &registerUses)
        }
        assembler.reset()
        exits.removeAll(keepingCapacity: true)
        self.base = base
        self.chainRecord = chainRecord
        self.page = pc & ~UInt64(Self.pageSize - 1)
        count = instructions.list.count
        blockPC = pc

        let short = assembler.newLabel()
        start = assembler.newLabel()
        bind(start)
        // Exact counting: a block longer than the budget runs nothing. The budget (rsi) goes
        // down by the block's length, for the next block when chained.
        assembler.arithmetic(.sub, .qword, .rsi, imm: Int32(count))
        assembler.jcc(.b, short)
        if let counter {
            assembler.movabs(.rax, imm: Int64(bitPattern: UInt64(counter)))
            assembler.arithmetic(.add, .qword, X86Memory(base: .rax), imm: 1)
        }

        var instructionPC = pc
        var endsInJump = false
        var index = 0
        let list = instructions.list
        while index < list.count {
            if let skipped = Self.shortForwardBranch(list, at: index) {
                let after = ifConverted(list[index], skipping: list[index + 1 ... index + skipped], pc: instructionPC, index: index)
                instructionPC = after
                index += 1 + skipped
                continue
            }
            endsInJump = emit(list[index], pc: instructionPC, index: index)
            instructionPC &+= UInt64(list[index].length)
            index += 1
        }
        if !endsInJump {
            emitExit(pc: instructionPC, retired: count, code: instructions.stoppedAtUnhandled ? .interpret : .next)
        }
        for exit in exits {
            bind(exit.label)
            emitExit(pc: exit.pc, retired: exit.retired, code: exit.code)
        }
        bind(short)
        // Nothing ran: the budget gets the block's length back. Entered by a chained jump, the
        // pc is not stored yet.
        assembler.arithmetic(.add, .qword, .rsi, imm: Int32(count))
        storePC(pc)
        assembler.mov(.dword, .rax, imm: Int64(BlockExit.budget.rawValue))
        assembler.ret()
        do {
            return TranslatedCode(bytes: try assembler.finish(), instructionCount: count,
                                  endOffset: pageOffset + instructions.list.reduce(0) { $0 + $1.length },
                                  registerUses: registerUses)
        } catch {
            preconditionFailure("the block translator left a label unbound: \(error)")
        }
    }

    /// The instructions of the block at `pageOffset`: up to the first jump or branch backwards
    /// (included, see ``endsBlock(_:)``), the first instruction not handled (excluded;
    /// `stoppedAtUnhandled`), the end of the page or ``maximumInstructions``.
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
            if endsBlock(instruction) { break }
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
             .cLw, .cLd, .cSw, .cSd, .cJal, .cJalr, .cJr, .cBeq, .cBne,
             .amoswapW, .amoaddW, .amoxorW, .amoandW, .amoorW, .amoswapD, .amoaddD, .amoxorD, .amoandD, .amoorD:
            return true
        default:
            return false
        }
    }

    /// Whether `instruction` ends the block: a jump, or a branch backwards (a loop's edge). A
    /// branch forwards does not: the block goes on with the instructions after it, and the branch
    /// taken leaves the block (a side exit) or, over a few instructions, is if-converted
    /// (``shortForwardBranch(_:at:)``).
    static func endsBlock(_ instruction: AcceleratorInstruction) -> Bool {
        switch instruction.op {
        case .jal, .jalr, .cJal, .cJalr, .cJr: return true
        case .beq, .bne, .blt, .bge, .bltu, .bgeu, .cBeq, .cBne: return instruction.imm <= 0
        default: return false
        }
    }

    /// The most instructions a branch skips and still is if-converted.
    static let ifConversionLimit = 3

    /// If `list[index]` is a conditional branch forwards over the next 1...``ifConversionLimit``
    /// instructions of the block, all of them register-to-register (``isSimpleArithmetic(_:)``)
    /// with one destination: how many it skips. The block then computes them either way and
    /// keeps the destination's old value when the branch is taken (``ifConverted(_:skipping:pc:index:)``):
    /// no host branch to mispredict.
    static func shortForwardBranch(_ list: [AcceleratorInstruction], at index: Int) -> Int? {
        let branch = list[index]
        switch branch.op {
        case .beq, .bne, .blt, .bge, .bltu, .bgeu, .cBeq, .cBne: break
        default: return nil
        }
        guard branch.imm > 0 else { return nil }
        var skipped = 0, bytes = Int64(branch.length)   // the target is relative to the branch
        while bytes < branch.imm && skipped < ifConversionLimit && index + 1 + skipped < list.count {
            let next = list[index + 1 + skipped]
            guard isSimpleArithmetic(next.op), next.rd == list[index + 1].rd else { return nil }
            bytes += Int64(next.length)
            skipped += 1
        }
        return bytes == branch.imm && skipped > 0 ? skipped : nil
    }

    /// Whether `op` only computes a register from registers and immediates with `rax` and `rcx`
    /// as its only scratch registers (what an if-converted branch may skip).
    static func isSimpleArithmetic(_ op: Op) -> Bool {
        switch op {
        case .lui, .auipc, .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai,
             .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .addiw, .slliw, .srliw, .sraiw, .addw, .subw, .sllw, .srlw, .sraw, .mul, .mulw,
             .cAddi, .cAddiw, .cLui, .cSlli, .cSrli, .cSrai, .cAndi, .cAdd, .cSub, .cXor, .cOr, .cAnd, .cSubw, .cAddw:
            return true
        default:
            return false
        }
    }

    // MARK: - Operands and results

    /// Where a guest register's value is at the point being emitted.
    enum Operand: Equatable {
        /// x0.
        case immediate(Int32)
        /// In its host register (``GuestRegisterAllocation``).
        case register(X86Register)
        /// In the register file.
        case memory(X86Memory)
    }

    /// Guest register `index` in the register file in memory.
    private func slot(_ index: Int) -> X86Memory {
        X86Memory(base: .rdi, displacement: Int32(8 * index))
    }

    /// The value of guest register `register` (x0 reads 0).
    private func operand(_ register: Int) -> Operand {
        if register == 0 { return .immediate(0) }
        guard let host = allocation.host(register) else { return .memory(slot(register)) }
        return .register(host)
    }

    /// `target = source` at `size` (a `dword` move clears the upper half; callers that use
    /// `dword` look only at the lower half).
    private mutating func move(_ size: X86OperandSize, _ target: X86Register, _ source: Operand) {
        switch source {
        case .immediate(let value): assembler.mov(.qword, target, imm: Int64(value))
        case .register(let host): if host != target { assembler.mov(size, target, host) }
        case .memory(let memory): assembler.mov(size, target, memory)
        }
    }

    /// `target op= source`.
    private mutating func apply(_ operation: X86ArithmeticOperation, _ size: X86OperandSize, _ target: X86Register, _ source: Operand) {
        switch source {
        case .immediate(let value): assembler.arithmetic(operation, size, target, imm: value)
        case .register(let host): assembler.arithmetic(operation, size, target, host)
        case .memory(let memory): assembler.arithmetic(operation, size, target, memory)
        }
    }

    /// A register of `source` (itself if it is one, else `scratch` loaded with it).
    private mutating func inRegister(_ size: X86OperandSize, _ source: Operand, scratch: X86Register) -> X86Register {
        if case .register(let host) = source { return host }
        move(size, scratch, source)
        return scratch
    }

    /// The register to compute `rd`'s new value in: its host register if it has one and that
    /// is not `avoiding` (an operand still to be read after the result register is first
    /// written), else `scratch`.
    private func resultRegister(_ rd: Int, avoiding: Operand? = nil, scratch: X86Register = .rax) -> X86Register {
        if rd < 32, let host = allocation.host(rd), avoiding != .register(host) { return host }
        return scratch
    }

    /// Makes `value` the new value of guest register `rd` (writes to x0 and the sink vanish).
    private mutating func setResult(_ rd: Int, _ value: X86Register) {
        guard rd != 0 && rd != Hart.sinkRegister else { return }
        if let host = allocation.host(rd) {
            if host != value { assembler.mov(.qword, host, value) }
        } else {
            assembler.mov(.qword, slot(rd), value)
        }
    }

    // MARK: - Emission

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

    /// Gives the budget back the instructions of the block not retired, stores `pc` as the
    /// hart's pc and returns `code`. An exit to the block's own pc (a loop) jumps to its start.
    ///
    /// A `.next` exit to a pc on the block's own page goes through a `jmp` that the caller may
    /// patch to jump to the block at that pc (then the pc is not stored: that block's budget
    /// exit stores it). Until then the jump leads here, and this exit records where its rel32
    /// field is (``translate(page:pageOffset:pc:base:chainRecord:)``).
    private mutating func emitExit(pc: UInt64, retired: Int, code: BlockExit) {
        if retired < count {
            assembler.arithmetic(.add, .qword, .rsi, imm: Int32(count - retired))
        }
        if code == .next && pc == blockPC {
            assembler.jmp(start)
            return
        }
        let samePage = pc & ~UInt64(Self.pageSize - 1) == page
        if code == .next && !samePage && lookup != nil {
            assembler.mov(.qword, .rax, imm: Int64(bitPattern: pc))
            emitLookup()
            return
        }
        if code == .next && samePage {
            let stub = assembler.newLabel()
            assembler.jmp(stub)
            let field = base + assembler.offset - 4
            bind(stub)
            recordChainSite(field)
        }
        storePC(pc)
        assembler.mov(.dword, .rax, imm: Int64(code.rawValue))
        assembler.ret()
    }

    /// Stores the buffer offset of a jump's rel32 field where the caller looks for the exit
    /// that led to the next lookup (``translate(page:pageOffset:pc:base:chainRecord:counter:)``).
    private mutating func recordChainSite(_ field: Int) {
        assembler.mov(.qword, .rcx, imm: Int64(bitPattern: UInt64(chainRecord)))
        assembler.mov(.qword, X86Memory(base: .rcx), imm: Int32(field))
    }

    /// The exit to the pc in `rax` (an indirect jump's target, or a pc on another page), with
    /// the whole block retired: stores the pc and jumps
    /// to the block that the Swift loop's lookup (``JITAccelerator``) would run there, found
    /// exactly as it finds it; returns `.next` to the loop when that lookup would not find one
    /// in the table.
    ///
    /// The fetch TLB is probed as the loop's `cachedFetchRAMOffset` probes it (a miss returns:
    /// the interpreter's fetch translates the pc, with its faults and permission checks, and
    /// fills the entry); the entry's delta gives the RAM offset; the table entry must hold that
    /// RAM offset, the same virtual pc and the page's current code version. The target block's
    /// entry checks the budget. On a hit the block's code (or the interpreter stub, for an
    /// instruction the translator does not handle) runs without the loop.
    private mutating func emitLookup() {
        assembler.mov(.qword, X86Memory(base: .rdi, displacement: Int32(Hart.acceleratorPCOffset)), .rax)
        let miss = assembler.newLabel()
        if let lookup {
            let epoch = X86Memory(base: .rdi, displacement: Int32(Hart.acceleratorFetchTLBEpochOffset))
            let slot = lookup.jumpTargets.nextSlot()
            if let slot {
                // The block this site's last target ran, if the fetch TLB and the code are as
                // they were then (``JumpTargetCache``).
                let full = assembler.newLabel()
                assembler.movabs(.rcx, imm: Int64(bitPattern: UInt64(slot)))
                assembler.arithmetic(.cmp, .qword, .rax, X86Memory(base: .rcx, displacement: Int32(JumpTargetCache.pcField)))
                assembler.jcc(.ne, full)
                assembler.mov(.qword, .rdx, epoch)
                assembler.arithmetic(.cmp, .qword, .rdx, X86Memory(base: .rcx, displacement: Int32(JumpTargetCache.epochField)))
                assembler.jcc(.ne, full)
                assembler.movabs(.rdx, imm: Int64(bitPattern: UInt64(lookup.codeGeneration)))
                assembler.mov(.qword, .rdx, X86Memory(base: .rdx))
                assembler.arithmetic(.cmp, .qword, .rdx, X86Memory(base: .rcx, displacement: Int32(JumpTargetCache.generationField)))
                assembler.jcc(.ne, full)
                assembler.jmp(X86Memory(base: .rcx, displacement: Int32(JumpTargetCache.codeField)))
                bind(full)
            }
            // r8 holds a guest register: kept on the stack while the lookup needs it.
            assembler.push(.r8)
            let fetch = Hart.acceleratorTLBOffset + 2 * Hart.acceleratorTLBTableBytes
            tlbEntryOffset(of: .rax, into: .rcx)
            assembler.mov(.qword, .rdx, .rax)
            assembler.arithmetic(.and, .qword, .rdx, imm: -Int32(Self.pageSize))
            assembler.arithmetic(.cmp, .qword, .rdx, X86Memory(base: .rdi, index: .rcx, displacement: Int32(fetch)))
            assembler.jcc(.ne, miss)
            assembler.mov(.qword, .rdx, X86Memory(base: .rdi, index: .rcx, displacement: Int32(fetch + 8)))
            assembler.arithmetic(.add, .qword, .rdx, .rax)
            assembler.movabs(.r8, imm: Int64(bitPattern: UInt64(lookup.ramBase)))
            assembler.arithmetic(.sub, .qword, .rdx, .r8)
            // rdx: the RAM offset; rcx: its entry in the table.
            precondition(BlockTable.entryBytes == 32, "the inline lookup scales table indices by 32")
            precondition(BlockTable.ways == 2 && BlockTable.entryBytes == 32, "the inline lookup reads sets of two 32-byte entries")
            assembler.mov(.qword, .rcx, .rdx)
            assembler.shift(.shr, .qword, .rcx, by: 1)
            assembler.imul(.dword, .rcx, .rcx, imm: Int32(bitPattern: BlockTable.hashMultiplier))
            assembler.shift(.shr, .dword, .rcx, by: UInt8(32 - BlockTable.setBits))
            assembler.shift(.shl, .dword, .rcx, by: 6)
            assembler.movabs(.r8, imm: Int64(bitPattern: UInt64(lookup.table)))
            assembler.arithmetic(.add, .qword, .rcx, .r8)
            // The first way, then the second (a RAM offset and pc are in at most one of them).
            let secondWay = assembler.newLabel(), sameBlock = assembler.newLabel()
            assembler.arithmetic(.cmp, .qword, .rdx, X86Memory(base: .rcx, displacement: Int32(BlockTable.ramOffsetField)))
            assembler.jcc(.ne, secondWay)
            assembler.arithmetic(.cmp, .qword, .rax, X86Memory(base: .rcx, displacement: Int32(BlockTable.pcField)))
            assembler.jcc(.e, sameBlock)
            bind(secondWay)
            assembler.arithmetic(.add, .qword, .rcx, imm: Int32(BlockTable.entryBytes))
            assembler.arithmetic(.cmp, .qword, .rdx, X86Memory(base: .rcx, displacement: Int32(BlockTable.ramOffsetField)))
            assembler.jcc(.ne, miss)
            assembler.arithmetic(.cmp, .qword, .rax, X86Memory(base: .rcx, displacement: Int32(BlockTable.pcField)))
            assembler.jcc(.ne, miss)
            bind(sameBlock)
            assembler.shift(.shr, .qword, .rdx, by: 12)
            assembler.movabs(.r8, imm: Int64(bitPattern: UInt64(lookup.codeVersions)))
            assembler.mov(.dword, .r8, X86Memory(base: .r8, index: .rdx, scale: .four))
            assembler.arithmetic(.cmp, .dword, .r8, X86Memory(base: .rcx, displacement: Int32(BlockTable.versionField)))
            assembler.jcc(.ne, miss)
            assembler.pop(.r8)
            if let slot {
                // Found: remember it for this site, with the state it was found under.
                assembler.mov(.qword, .rdx, X86Memory(base: .rcx, displacement: Int32(BlockTable.codeField)))
                assembler.movabs(.rcx, imm: Int64(bitPattern: UInt64(slot)))
                assembler.mov(.qword, X86Memory(base: .rcx, displacement: Int32(JumpTargetCache.codeField)), .rdx)
                assembler.mov(.qword, X86Memory(base: .rcx, displacement: Int32(JumpTargetCache.pcField)), .rax)
                assembler.mov(.qword, .rax, epoch)
                assembler.mov(.qword, X86Memory(base: .rcx, displacement: Int32(JumpTargetCache.epochField)), .rax)
                assembler.movabs(.rax, imm: Int64(bitPattern: UInt64(lookup.codeGeneration)))
                assembler.mov(.qword, .rax, X86Memory(base: .rax))
                assembler.mov(.qword, X86Memory(base: .rcx, displacement: Int32(JumpTargetCache.generationField)), .rax)
                assembler.jmp(.rdx)
            } else {
                assembler.jmp(X86Memory(base: .rcx, displacement: Int32(BlockTable.codeField)))
            }
        }
        bind(miss)
        if lookup != nil { assembler.pop(.r8) }
        assembler.mov(.dword, .rax, imm: Int64(BlockExit.next.rawValue))
        assembler.ret()
    }

    /// `rd = rs1 op second` at `size` (a `dword` result is sign-extended, as RV64's W forms).
    private mutating func binary(_ operation: X86ArithmeticOperation, _ size: X86OperandSize, _ i: AcceleratorInstruction,
                                 second: Operand, commutative: Bool) {
        var first = operand(i.rs1), second = second
        let home = resultRegister(i.rd)
        if commutative && second == .register(home) && first != .register(home) { swap(&first, &second) }
        let target = resultRegister(i.rd, avoiding: second)
        move(size, target, first)
        apply(operation, size, target, second)
        if size == .dword { assembler.movsxd(target, target) }
        setResult(i.rd, target)
    }

    /// `rd = rs1 + imm` (`lea` between host registers, a constant for x0).
    private mutating func addImmediate(_ size: X86OperandSize, _ i: AcceleratorInstruction) {
        let source = operand(i.rs1)
        let target = resultRegister(i.rd)
        switch source {
        case .immediate(let value):
            let sum = Int64(value) &+ i.imm
            assembler.mov(.qword, target, imm: size == .dword ? Int64(Int32(truncatingIfNeeded: sum)) : sum)
            setResult(i.rd, target)
            return
        case .register(let host) where host != target:
            assembler.lea(size, target, X86Memory(base: host, displacement: Int32(truncatingIfNeeded: i.imm)))
        default:
            move(size, target, source)
            if i.imm != 0 { assembler.arithmetic(.add, size, target, imm: Int32(truncatingIfNeeded: i.imm)) }
        }
        if size == .dword { assembler.movsxd(target, target) }
        setResult(i.rd, target)
    }

    /// `rd = rs1 shifted by imm`.
    private mutating func shiftImmediate(_ operation: X86ShiftOperation, _ size: X86OperandSize, _ i: AcceleratorInstruction) {
        let source = operand(i.rs1)
        let target = resultRegister(i.rd)
        move(size, target, source)
        assembler.shift(operation, size, target, by: UInt8(i.imm & (size == .dword ? 31 : 63)))
        if size == .dword { assembler.movsxd(target, target) }
        setResult(i.rd, target)
    }

    /// `rd = rs1 shifted by rs2` (x86 masks the count as RISC-V does: 6 bits, 5 for W).
    private mutating func shiftByRegister(_ operation: X86ShiftOperation, _ size: X86OperandSize, _ i: AcceleratorInstruction) {
        let source = operand(i.rs1)
        move(.dword, .rcx, operand(i.rs2))
        let target = resultRegister(i.rd)
        move(size, target, source)
        assembler.shiftByCL(operation, size, target)
        if size == .dword { assembler.movsxd(target, target) }
        setResult(i.rd, target)
    }

    /// `rd = (rs1 condition second) ? 1 : 0`.
    private mutating func compare(_ condition: X86Condition, _ i: AcceleratorInstruction, second: Operand) {
        let first = inRegister(.qword, operand(i.rs1), scratch: .rax)
        apply(.cmp, .qword, first, second)
        let target = resultRegister(i.rd, scratch: .rcx)
        assembler.set(condition, zeroExtendingInto: target)
        setResult(i.rd, target)
    }

    /// `rax` = the host address of the access of `size` bytes at `x[rs1] + imm`, through the
    /// read (`write` false) or write TLB; a miss, a misaligned access or one that crosses the
    /// page goes to the interpreter at this instruction.
    private mutating func probe(_ i: AcceleratorInstruction, size: Int, write: Bool, pc: UInt64, index: Int) {
        switch operand(i.rs1) {
        case .register(let host):
            assembler.lea(.qword, .rax, X86Memory(base: host, displacement: Int32(truncatingIfNeeded: i.imm)))
        case let source:
            move(.qword, .rax, source)
            if i.imm != 0 { assembler.arithmetic(.add, .qword, .rax, imm: Int32(truncatingIfNeeded: i.imm)) }
        }
        tlbEntryOffset(of: .rax, into: .rcx)
        // The tag has its low 12 bits clear: keeping the address's alignment bits makes a
        // misaligned access miss, as in the interpreter's fast loop.
        assembler.mov(.qword, .rdx, .rax)
        assembler.arithmetic(.and, .qword, .rdx, imm: Int32(truncatingIfNeeded: ~(Int64(0xFFF) & ~Int64(size - 1))))
        let table = Hart.acceleratorTLBOffset + (write ? Hart.acceleratorTLBTableBytes : 0)
        assembler.arithmetic(.cmp, .qword, .rdx, X86Memory(base: .rdi, index: .rcx, displacement: Int32(table)))
        let miss = assembler.newLabel()
        exits.append((miss, pc, index, .interpret))
        assembler.jcc(.ne, miss)
        assembler.arithmetic(.add, .qword, .rax, X86Memory(base: .rdi, index: .rcx, displacement: Int32(table + 8)))
    }

    /// `index` = the byte offset of `address`'s entry in a TLB table: `((address >> 12) &
    /// (entries - 1)) * 16`, as `(address >> 8) & ((entries - 1) << 4)`.
    private mutating func tlbEntryOffset(of address: X86Register, into index: X86Register) {
        precondition(MemoryLayout<UInt64>.size * 2 == 16 && Hart.acceleratorTLBTableBytes == 16 * Hart.acceleratorTLBEntries,
                     "TLB entries are 16 bytes")
        assembler.mov(.dword, index, address)
        assembler.shift(.shr, .dword, index, by: 8)
        assembler.arithmetic(.and, .dword, index, imm: Int32((Hart.acceleratorTLBEntries - 1) << 4))
    }

    private mutating func load(_ i: AcceleratorInstruction, size: Int, signed: Bool, pc: UInt64, index: Int) {
        probe(i, size: size, write: false, pc: pc, index: index)
        let source = X86Memory(base: .rax)
        let target = resultRegister(i.rd, scratch: .rdx)
        switch (size, signed) {
        case (1, true): assembler.movsx(.qword, target, .byte, source)
        case (1, false): assembler.movzx(.dword, target, .byte, source)
        case (2, true): assembler.movsx(.qword, target, .word, source)
        case (2, false): assembler.movzx(.dword, target, .word, source)
        case (4, true): assembler.movsxd(target, source)
        case (4, false): assembler.mov(.dword, target, source)
        default: assembler.mov(.qword, target, source)
        }
        setResult(i.rd, target)
    }

    private mutating func storeMemory(_ i: AcceleratorInstruction, size: Int, pc: UInt64, index: Int) {
        let sizes: [Int: X86OperandSize] = [1: .byte, 2: .word, 4: .dword, 8: .qword]
        let width = sizes[size]!
        let value = operand(i.rs2)
        probe(i, size: size, write: true, pc: pc, index: index)
        storeAtRAX(width, value)
    }

    /// `[rax] = value` at `width` (`rdx` is scratch).
    private mutating func storeAtRAX(_ width: X86OperandSize, _ value: Operand) {
        switch value {
        case .immediate(let constant): assembler.mov(width, X86Memory(base: .rax), imm: constant)
        case .register(let host): assembler.mov(width, X86Memory(base: .rax), host)
        case .memory(let memory):
            assembler.mov(.qword, .rdx, memory)
            assembler.mov(width, X86Memory(base: .rax), .rdx)
        }
    }

    /// An AMO (swap when `operation` is nil) of `size` bytes at `x[rs1]`: `rd` gets the old
    /// value (sign-extended for a word), memory the old value combined with `x[rs2]`. Through the
    /// write TLB, as the interpreter's AMOs go: a hit is a RAM page this context may read and
    /// write, dirty, without page flags; a miss, a misaligned address (its alignment bits make
    /// the probe miss) or a device goes to the interpreter at this instruction, which raises
    /// what the architecture says. One hart: the access needs no lock, and `aq`/`rl` order
    /// nothing more.
    private mutating func atomic(_ operation: X86ArithmeticOperation?, size: Int, _ i: AcceleratorInstruction, pc: UInt64, index: Int) {
        precondition(i.imm == 0, "an AMO has no offset")
        let width: X86OperandSize = size == 4 ? .dword : .qword
        let operand = operand(i.rs2)
        probe(i, size: size, write: true, pc: pc, index: index)
        if size == 4 {
            assembler.movsxd(.rcx, X86Memory(base: .rax))
        } else {
            assembler.mov(.qword, .rcx, X86Memory(base: .rax))
        }
        if let operation {
            assembler.mov(.qword, .rdx, .rcx)
            apply(operation, width, .rdx, operand)
            assembler.mov(width, X86Memory(base: .rax), .rdx)
        } else {
            storeAtRAX(width, operand)
        }
        setResult(i.rd, .rcx)
    }

    /// Sets the flags for a conditional branch: `rs1` compared with `rs2` (or 0).
    private mutating func compareForBranch(_ i: AcceleratorInstruction, againstZero: Bool) {
        let first = inRegister(.qword, operand(i.rs1), scratch: .rax)
        let second = againstZero ? Operand.immediate(0) : operand(i.rs2)
        if second == .immediate(0) {
            assembler.test(.qword, first, first)
        } else {
            apply(.cmp, .qword, first, second)
        }
    }

    /// A conditional branch. The last instruction of the block goes to the target or the next
    /// instruction; one before (a branch forwards) leaves the block when taken and goes on with
    /// the next instruction otherwise. Returns whether it ended the block.
    private mutating func branch(_ condition: X86Condition, _ i: AcceleratorInstruction, pc: UInt64, index: Int,
                                 againstZero: Bool) -> Bool {
        compareForBranch(i, againstZero: againstZero)
        let target = pc &+ UInt64(bitPattern: i.imm)
        if index < count - 1 {
            let taken = assembler.newLabel()
            assembler.jcc(condition, taken)
            exits.append((taken, target, index + 1, .next))
            return false
        }
        if target == blockPC {
            // A loop: straight back to the block's start (its budget check).
            assembler.jcc(condition, start)
            emitExit(pc: pc &+ UInt64(i.length), retired: count, code: .next)
            return true
        }
        let taken = assembler.newLabel()
        assembler.jcc(condition, taken)
        let takenField = base + assembler.offset - 4
        emitExit(pc: pc &+ UInt64(i.length), retired: count, code: .next)
        bind(taken)
        if target & ~UInt64(Self.pageSize - 1) == page {
            // The branch's own rel32 field is the chain site: patched, the branch taken goes
            // straight to the target's block (one jump, not two).
            recordChainSite(takenField)
            storePC(target)
            assembler.mov(.dword, .rax, imm: Int64(BlockExit.next.rawValue))
            assembler.ret()
        } else {
            emitExit(pc: target, retired: count, code: .next)
        }
        return true
    }

    /// The condition under which a conditional branch is taken, and whether it compares with 0.
    private static func branchCondition(_ op: Op) -> (X86Condition, againstZero: Bool) {
        switch op {
        case .beq: (.e, false)
        case .bne: (.ne, false)
        case .blt: (.l, false)
        case .bge: (.ge, false)
        case .bltu: (.b, false)
        case .bgeu: (.ae, false)
        case .cBeq: (.e, true)
        case .cBne: (.ne, true)
        default: preconditionFailure("\(op) is not a conditional branch")
        }
    }

    /// A branch forwards over `skipped` (``shortForwardBranch(_:at:)``), without a host branch:
    /// the skipped instructions run either way, and when the branch is taken their destination
    /// gets its old value back (`cmov`) and the budget gets them back (they are not retired).
    /// Every exit after this point gives back what it did not retire counting them as retired,
    /// so with the budget given back here the count is exact on both paths. Returns the pc
    /// after the skipped instructions.
    ///
    /// The old value waits in `rdx`, which the skipped instructions do not touch, and the branch
    /// compares again after them (they do not write its operands). When they do write one (the
    /// destination is an operand), the compare goes first, "taken" waits in `rdx` and the old
    /// value in the sink register's slot (it is not state): a store and a load more.
    private mutating func ifConverted(_ i: AcceleratorInstruction, skipping skipped: ArraySlice<AcceleratorInstruction>,
                                      pc: UInt64, index: Int) -> UInt64 {
        let (condition, againstZero) = Self.branchCondition(i.op)
        let rd = skipped.first!.rd
        let keepsOld = rd != 0 && rd != Hart.sinkRegister
        let writesOperand = keepsOld && (rd == i.rs1 || (!againstZero && rd == i.rs2))
        let old: Operand = writesOperand ? .memory(slot(Hart.sinkRegister)) : .register(.rdx)
        if writesOperand {
            compareForBranch(i, againstZero: againstZero)
            assembler.set(condition, zeroExtendingInto: .rdx)
            assembler.mov(.qword, slot(Hart.sinkRegister), inRegister(.qword, operand(rd), scratch: .rax))
        } else if keepsOld {
            move(.qword, .rdx, operand(rd))
        }
        var instructionPC = pc &+ UInt64(i.length)
        for (offset, instruction) in skipped.enumerated() {
            _ = emit(instruction, pc: instructionPC, index: index + 1 + offset)
            instructionPC &+= UInt64(instruction.length)
        }
        let taken: X86Condition
        if writesOperand {
            assembler.test(.dword, .rdx, .rdx)
            taken = .ne
        } else {
            compareForBranch(i, againstZero: againstZero)
            taken = condition
        }
        if keepsOld {
            let home = allocation.host(rd) ?? .rax
            if home == .rax { assembler.mov(.qword, .rax, slot(rd)) }
            switch old {
            case .register(let register): assembler.cmov(taken, .qword, home, register)
            case .memory(let memory): assembler.cmov(taken, .qword, home, memory)
            case .immediate: preconditionFailure("the old value is in a register or memory")
            }
            if home == .rax { assembler.mov(.qword, slot(rd), .rax) }
        }
        // The skipped instructions were not retired when the branch is taken.
        if !writesOperand { assembler.set(taken, zeroExtendingInto: .rdx) }
        for _ in skipped { assembler.arithmetic(.add, .qword, .rsi, .rdx) }
        return instructionPC
    }

    /// Division and remainder with RISC-V's results for a zero divisor and for overflow.
    private mutating func divide(_ i: AcceleratorInstruction, size: X86OperandSize, signed: Bool, remainder: Bool) {
        move(size, .rax, operand(i.rs1))
        move(size, .rcx, operand(i.rs2))
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
        setResult(i.rd, result)
    }

    /// `rd = constant`.
    private mutating func setConstant(_ rd: Int, _ value: UInt64) {
        let target = resultRegister(rd)
        assembler.mov(.qword, target, imm: Int64(bitPattern: value))
        setResult(rd, target)
    }

    /// Emits instruction `index`; returns true if it ended the block itself.
    private mutating func emit(_ i: AcceleratorInstruction, pc: UInt64, index: Int) -> Bool {
        switch i.op {
        case .lui, .cLui: setConstant(i.rd, UInt64(bitPattern: i.imm))
        case .auipc: setConstant(i.rd, pc &+ UInt64(bitPattern: i.imm))
        case .jal, .cJal:
            setConstant(i.rd, pc &+ UInt64(i.length))
            emitExit(pc: pc &+ UInt64(bitPattern: i.imm), retired: count, code: .next)
            return true
        case .jalr, .cJalr, .cJr:
            // The target first: rd may be rs1.
            let source = operand(i.rs1)
            if case .register(let host) = source {
                assembler.lea(.qword, .rax, X86Memory(base: host, displacement: Int32(truncatingIfNeeded: i.imm)))
            } else {
                move(.qword, .rax, source)
                if i.imm != 0 { assembler.arithmetic(.add, .qword, .rax, imm: Int32(truncatingIfNeeded: i.imm)) }
            }
            assembler.arithmetic(.and, .qword, .rax, imm: -2)
            let link = resultRegister(i.rd, scratch: .rcx)
            assembler.mov(.qword, link, imm: Int64(bitPattern: pc &+ UInt64(i.length)))
            setResult(i.rd, link)
            emitLookup()
            return true
        case .beq, .bne, .blt, .bge, .bltu, .bgeu, .cBeq, .cBne:
            let (condition, againstZero) = Self.branchCondition(i.op)
            return branch(condition, i, pc: pc, index: index, againstZero: againstZero)

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
        case .amoswapW: atomic(nil, size: 4, i, pc: pc, index: index)
        case .amoaddW: atomic(.add, size: 4, i, pc: pc, index: index)
        case .amoxorW: atomic(.xor, size: 4, i, pc: pc, index: index)
        case .amoandW: atomic(.and, size: 4, i, pc: pc, index: index)
        case .amoorW: atomic(.or, size: 4, i, pc: pc, index: index)
        case .amoswapD: atomic(nil, size: 8, i, pc: pc, index: index)
        case .amoaddD: atomic(.add, size: 8, i, pc: pc, index: index)
        case .amoxorD: atomic(.xor, size: 8, i, pc: pc, index: index)
        case .amoandD: atomic(.and, size: 8, i, pc: pc, index: index)
        case .amoorD: atomic(.or, size: 8, i, pc: pc, index: index)

        case .addi, .cAddi: addImmediate(.qword, i)
        case .addiw, .cAddiw: addImmediate(.dword, i)
        case .slti: compare(.l, i, second: .immediate(Int32(truncatingIfNeeded: i.imm)))
        case .sltiu: compare(.b, i, second: .immediate(Int32(truncatingIfNeeded: i.imm)))
        case .xori: binary(.xor, .qword, i, second: .immediate(Int32(truncatingIfNeeded: i.imm)), commutative: false)
        case .ori: binary(.or, .qword, i, second: .immediate(Int32(truncatingIfNeeded: i.imm)), commutative: false)
        case .andi, .cAndi: binary(.and, .qword, i, second: .immediate(Int32(truncatingIfNeeded: i.imm)), commutative: false)
        case .slli, .cSlli: shiftImmediate(.shl, .qword, i)
        case .srli, .cSrli: shiftImmediate(.shr, .qword, i)
        case .srai, .cSrai: shiftImmediate(.sar, .qword, i)
        case .slliw: shiftImmediate(.shl, .dword, i)
        case .srliw: shiftImmediate(.shr, .dword, i)
        case .sraiw: shiftImmediate(.sar, .dword, i)
        case .add, .cAdd: binary(.add, .qword, i, second: operand(i.rs2), commutative: true)
        case .sub, .cSub: binary(.sub, .qword, i, second: operand(i.rs2), commutative: false)
        case .xor, .cXor: binary(.xor, .qword, i, second: operand(i.rs2), commutative: true)
        case .or, .cOr: binary(.or, .qword, i, second: operand(i.rs2), commutative: true)
        case .and, .cAnd: binary(.and, .qword, i, second: operand(i.rs2), commutative: true)
        case .addw, .cAddw: binary(.add, .dword, i, second: operand(i.rs2), commutative: true)
        case .subw, .cSubw: binary(.sub, .dword, i, second: operand(i.rs2), commutative: false)
        case .slt: compare(.l, i, second: operand(i.rs2))
        case .sltu: compare(.b, i, second: operand(i.rs2))
        case .sll: shiftByRegister(.shl, .qword, i)
        case .srl: shiftByRegister(.shr, .qword, i)
        case .sra: shiftByRegister(.sar, .qword, i)
        case .sllw: shiftByRegister(.shl, .dword, i)
        case .srlw: shiftByRegister(.shr, .dword, i)
        case .sraw: shiftByRegister(.sar, .dword, i)

        case .mul, .mulw:
            let size: X86OperandSize = i.op == .mul ? .qword : .dword
            let first = operand(i.rs1)
            let second = inRegister(size, operand(i.rs2), scratch: .rcx)
            let target = resultRegister(i.rd, avoiding: .register(second))
            move(size, target, first)
            assembler.imul(size, target, second)
            if size == .dword { assembler.movsxd(target, target) }
            setResult(i.rd, target)
        case .mulh, .mulhu, .mulhsu:
            move(.qword, .rax, operand(i.rs1))
            move(.qword, .rcx, operand(i.rs2))
            if i.op == .mulh {
                assembler.imul(.qword, .rcx)
            } else {
                // (a in the sink register's slot, which is not state: no scratch register is left.)
                let a = slot(Hart.sinkRegister)
                if i.op == .mulhsu { assembler.mov(.qword, a, .rax) }
                assembler.mul(.qword, .rcx)
                if i.op == .mulhsu {
                    // signed(a) * unsigned(b): the unsigned high half, minus b when a < 0.
                    assembler.mov(.qword, .rax, a)
                    assembler.shift(.sar, .qword, .rax, by: 63)
                    assembler.arithmetic(.and, .qword, .rax, .rcx)
                    assembler.arithmetic(.sub, .qword, .rdx, .rax)
                }
            }
            setResult(i.rd, .rdx)
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
