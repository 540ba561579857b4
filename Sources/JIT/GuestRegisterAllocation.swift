import RISCV

/// Which guest registers live in host registers while generated code runs: one fixed
/// assignment shared by every block translated under it, so control passes from block to block
/// (chained jumps, inline lookups, loop edges) with the registers where they are.
///
/// The rule that keeps everything outside generated code unchanged: at every return to the
/// Swift loop the guest registers are in the register file in memory. ``BlockEntry`` loads the
/// assigned registers from memory before it calls a block and stores them back when the last
/// block of the chain returns; inside generated code an assigned register is only in its host
/// register (memory is stale), every other guest register only in memory. Since generated code
/// is left only by returning through the entry, no exit writes anything back.
///
/// The assignment is a choice of speed, not of results: ``JITAccelerator`` chooses it from the
/// registers the code that runs uses most (``RegisterUseProfile``, ``chosen(byUses:)``) and
/// changes it only when it empties the code buffer, so every block in the buffer shares one
/// assignment.
struct GuestRegisterAllocation: Equatable {
    /// The host registers given to guest registers, in order: rbx, rbp and r12-r15 are
    /// callee-saved (the entry saves them), r8-r11 caller-saved. rax, rcx and rdx stay scratch;
    /// rdi holds the register file and rsi the budget.
    static let hostRegisters: [X86Register] = [.rbx, .rbp, .r12, .r13, .r14, .r15, .r8, .r9, .r10, .r11]

    /// The assignment before the accelerator has seen any code: the registers the RISC-V calling
    /// convention makes busiest (sp, ra, a0-a5, s0, s1).
    static let initial = GuestRegisterAllocation(guests: [2, 1, 10, 11, 12, 13, 14, 15, 8, 9])

    /// The host register of each guest register (index 0...32), nil when it stays in memory.
    private var hosts = [X86Register?](repeating: nil, count: 33)

    /// Assigns `guests` (x1-x31, distinct, at most ``hostRegisters``.count) to the host
    /// registers in order.
    init(guests: [Int]) {
        precondition(guests.count <= Self.hostRegisters.count, "more guest registers than host registers to give them")
        for (slot, guest) in guests.enumerated() {
            precondition((1 ..< 32).contains(guest) && hosts[guest] == nil, "x\(guest) cannot be given a host register")
            hosts[guest] = Self.hostRegisters[slot]
        }
    }

    /// The guest registers used most in `uses` (indexed by register; x0 is never chosen), ties
    /// to the lower number.
    static func chosen(byUses uses: [Int]) -> GuestRegisterAllocation {
        let used: [Int] = (1 ..< min(32, uses.count)).filter { uses[$0] > 0 }
        let ranked: [Int] = used.sorted { (a: Int, b: Int) -> Bool in
            uses[a] != uses[b] ? uses[a] > uses[b] : a < b
        }
        return GuestRegisterAllocation(guests: Array(ranked.prefix(hostRegisters.count)))
    }

    /// The uses in `uses` (indexed by guest register) of the registers this allocation gives a
    /// host register.
    func coverage(of uses: [Int]) -> Int {
        assigned.reduce(0) { $0 &+ uses[$1.guest] }
    }

    /// The host register of guest register `register`, if it has one.
    func host(_ register: Int) -> X86Register? { hosts[register] }

    /// The assigned guest registers with their host registers, in guest register order.
    var assigned: [(guest: Int, host: X86Register)] {
        (1 ..< 32).compactMap { guest in hosts[guest].map { (guest, $0) } }
    }

    /// Adds the guest registers `instruction` reads or writes to `uses` (32 counters).
    static func count(_ instruction: AcceleratorInstruction, into uses: inout [Int]) {
        for register in registers(of: instruction) where register > 0 && register < 32 {
            uses[register] += 1
        }
    }

    /// The guest registers an instruction reads or writes.
    static func registers(of instruction: AcceleratorInstruction) -> [Int] {
        switch instruction.op {
        case .lui, .cLui, .auipc, .jal, .cJal:
            return [instruction.rd]
        case .beq, .bne, .blt, .bge, .bltu, .bgeu, .sb, .sh, .sw, .sd, .cSw, .cSd:
            return [instruction.rs1, instruction.rs2]
        case .cBeq, .cBne, .cJr:
            return [instruction.rs1]
        case .fence:
            return []
        case .jalr, .cJalr, .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .cLw, .cLd,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .addiw, .slliw, .srliw, .sraiw,
             .cAddi, .cAddiw, .cSlli, .cSrli, .cSrai, .cAndi:
            return [instruction.rd, instruction.rs1]
        default:
            return [instruction.rd, instruction.rs1, instruction.rs2]
        }
    }
}
