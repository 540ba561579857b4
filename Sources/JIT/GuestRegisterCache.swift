import RISCV

/// Which guest registers one translated block keeps in host registers, and, at the point of the
/// block's code being emitted, which of them hold their value (loaded) and which hold a value
/// the register file in memory does not have yet (dirty).
///
/// The rule that keeps everything outside a block unchanged: at every block boundary (entry,
/// every exit, every chained jump) the guest registers are in the register file in memory. A
/// cached register is loaded at its first read, and each exit writes back exactly the
/// registers dirty at its point. The block's code is straight-line up to its final branch or
/// jump, so the state at every point is known when the code is emitted.
struct GuestRegisterCache {
    /// The host registers given to guest registers, in order of preference: rbx, rbp and
    /// r12-r15 are callee-saved (the entry trampoline saves them), r9-r11 caller-saved. rax,
    /// rcx, rdx and r8 stay scratch; rdi holds the register file and rsi the budget.
    static let hostRegisters: [X86Register] = [.rbx, .rbp, .r12, .r13, .r14, .r15, .r9, .r10, .r11]

    /// The host register of each guest register (index 0...32), nil when it stays in memory.
    private var hosts = [X86Register?](repeating: nil, count: 33)
    /// Bit `r`: the host register of guest register `r` holds its value.
    private(set) var loaded: UInt64 = 0
    /// Bit `r`: the host register holds a value not yet written back to memory.
    private(set) var dirty: UInt64 = 0

    /// Gives the guest registers `instructions` use most (x1-x31; x0 reads are 0 and its writes
    /// vanish) a host register each; ties go to the lower register number.
    init(for instructions: [AcceleratorInstruction]) {
        var uses = [Int](repeating: 0, count: 32)
        for instruction in instructions {
            for register in Self.registers(of: instruction) where register > 0 && register < 32 {
                uses[register] += 1
            }
        }
        let chosen = (1 ..< 32).filter { uses[$0] > 0 }
            .sorted { uses[$0] != uses[$1] ? uses[$0] > uses[$1] : $0 < $1 }
            .prefix(Self.hostRegisters.count)
        for (slot, register) in chosen.enumerated() { hosts[register] = Self.hostRegisters[slot] }
    }

    /// The host register of guest register `register`, if it has one.
    func host(_ register: Int) -> X86Register? { hosts[register] }

    /// Bit `r` for every guest register that has a host register.
    var cached: UInt64 {
        (1 ..< 32).reduce(0) { hosts[$1] == nil ? $0 : $0 | 1 << UInt64($1) }
    }

    func isLoaded(_ register: Int) -> Bool { loaded & 1 << UInt64(register) != 0 }

    /// The host register now holds the value from memory.
    mutating func noteLoaded(_ register: Int) { loaded |= 1 << UInt64(register) }

    /// The host register now holds a new value that memory does not have.
    mutating func noteWritten(_ register: Int) {
        loaded |= 1 << UInt64(register)
        dirty |= 1 << UInt64(register)
    }

    /// Every dirty register was written back.
    mutating func noteWrittenBack() { dirty = 0 }

    /// The cached guest registers whose bits are set in `mask`, in register order, with their
    /// host registers.
    func registers(in mask: UInt64) -> [(guest: Int, host: X86Register)] {
        (1 ..< 32).compactMap { register in
            guard mask & 1 << UInt64(register) != 0, let host = hosts[register] else { return nil }
            return (register, host)
        }
    }

    /// The guest registers an instruction reads or writes (for choosing which to cache).
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
