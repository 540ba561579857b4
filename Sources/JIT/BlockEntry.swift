import RISCV

/// The code at the start of the code buffer through which the Swift loop calls translated
/// blocks: `(registers, budget, code) -> BlockExit.rawValue`.
///
/// It saves the callee-saved registers that blocks give to guest registers (rbx, rbp,
/// r12-r15), loads the guest registers of the allocation (``GuestRegisterAllocation``) into
/// their host registers and calls the block at host address `code` with the register file in
/// `rdi` and the budget in `rsi`. Blocks chained to one another run under the same call and
/// pay nothing for it. When the last block returns, the entry stores the allocated registers
/// back into the register file (so at every return to the Swift loop the guest registers are
/// in memory), and the budget has gone down by exactly the instructions retired (each block's
/// entry takes its length, an exit before the end gives back what it did not retire): the
/// entry adds that to the count, so no block touches the count in memory.
///
/// After it comes the interpreter stub: the code address ``BlockTable`` records for an
/// instruction the translator does not handle. A lookup in generated code that finds it jumps
/// there with the pc stored, and it returns `.next`, so the Swift loop looks the pc up again
/// and has the interpreter run the instruction.
enum BlockEntry {
    typealias Function = @convention(c) (UnsafeMutablePointer<UInt64>, Int, UInt) -> Int

    /// The callee-saved registers blocks use, in push order.
    static let saved: [X86Register] = [.rbx, .rbp, .r12, .r13, .r14, .r15]

    /// The interpreter stub's code: returns `.next`.
    static func interpreterStub() -> [UInt8] {
        var assembler = X86Assembler()
        assembler.mov(.dword, .rax, imm: Int64(BlockExit.next.rawValue))
        assembler.ret()
        return assembler.bytes
    }

    /// The entry's code for blocks translated under `allocation`.
    static func code(allocation: GuestRegisterAllocation) -> [UInt8] {
        var assembler = X86Assembler()
        for register in saved { assembler.push(register) }
        assembler.push(.rsi)            // the budget given
        for (guest, host) in allocation.assigned {
            assembler.mov(.qword, host, X86Memory(base: .rdi, displacement: Int32(8 * guest)))
        }
        assembler.call(.rdx)
        for (guest, host) in allocation.assigned {
            assembler.mov(.qword, X86Memory(base: .rdi, displacement: Int32(8 * guest)), host)
        }
        assembler.pop(.rcx)
        assembler.arithmetic(.sub, .qword, .rcx, .rsi)
        assembler.arithmetic(.add, .qword, X86Memory(base: .rdi, displacement: Int32(Hart.acceleratorInstretOffset)), .rcx)
        for register in saved.reversed() { assembler.pop(register) }
        assembler.ret()
        do {
            return try assembler.finish()
        } catch {
            preconditionFailure("the block entry has no labels: \(error)")
        }
    }
}
