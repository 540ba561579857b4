import GuestAssembly
import Machine
import RISCV
import Testing

/// The TLBs keep their entries across changes of privilege and of SUM (`TLBContexts`); these
/// programs check that no entry is ever used where the permission it was filled under no longer
/// holds. Each fills an entry, changes the context, and makes an access that must fault; the
/// M-mode handler records the cause, pc and address (s10, s9, s8) and powers off. An access that
/// wrongly succeeds leaves 99 in s11 (98: a trap to the kernel that should not happen).
///
/// The page table maps RAM twice with gigapages: at its own address for the supervisor (no U
/// bit), and 1 GiB higher for user code (U bit).
@Suite struct TLBContextTests {
    static let userAlias: UInt64 = 0x4000_0000

    /// M-mode setup (page table, trap handler, delegation of user ecalls to S), then `body`
    /// from `supervisor:` in S-mode. `target` is a data word.
    static func run(_ body: String) throws -> Machine {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
        let image = try Assembler.assemble("""
            .macro TO_USER label       # sret will enter user code at the user's view of label
                la t0, \\label
                li t1, \(userAlias)
                add t0, t0, t1
                csrw sepc, t0
                li t0, 0x100           # SPP = U
                csrc sstatus, t0
            .endm
            .macro MUST_FAULT base     # a load through base that must fault; s7 holds its pc
                la s7, 1f
            1:  ld t3, 0(\\base)
                li s11, 99
                ebreak
            .endm
            .macro NO_KERNEL_TRAP      # the kernel's trap handler, for programs that must not trap to it
            .align 2
            strap:
                li s11, 98
                ebreak
            .endm
                la t0, handler
                csrw mtvec, t0
                la t0, root
                li t1, 0x80000000
                srli t1, t1, 12
                slli t1, t1, 10
                ori t2, t1, 0xCF       # V R W X A D: the supervisor's view
                sd t2, 16(t0)          # entry 2: 0x80000000
                ori t2, t1, 0xDF       # and U: the user's view
                sd t2, 24(t0)          # entry 3: 0xC0000000
                srli t0, t0, 12
                li t1, 8
                slli t1, t1, 60
                or t0, t0, t1
                csrw satp, t0
                li t0, 0x100           # user ecalls go to S
                csrw medeleg, t0
                la t0, strap
                csrw stvec, t0
                la t0, supervisor
                csrw mepc, t0
                li t0, 0x800           # MPP = S
                csrw mstatus, t0
                li s10, 0
                li s11, 0
                mret
            .align 2
            handler:
                csrr s10, mcause
                csrr s9, mepc
                csrr s8, mtval
                EXIT
            supervisor:
            \(body)
            .section .data
            .align 12
            root: .space 4096
            target: .dword 7
            """)
        machine.memory.write(image, at: MachineConfiguration.ramBase)
        #expect(machine.run(instructionLimit: 10_000) == .exited(code: 0))
        return machine
    }

    /// Expects the access at the pc in s7 to have faulted with a load page fault at the address in s6.
    static func expectLoadPageFault(_ machine: Machine) {
        #expect(machine.hart.register(27) == 0, "s11: 99 if the access did not fault")
        #expect(machine.hart.register(26) == 13, "s10: the cause")
        #expect(machine.hart.register(25) == machine.hart.register(23), "s9: mepc, the faulting load's pc (s7)")
        #expect(machine.hart.register(24) == machine.hart.register(22), "s8: mtval, its address (s6)")
    }

    /// The kernel reads a user page with SUM on, turns SUM off and reads it again: the entry
    /// the first read filled must not serve the second.
    @Test func turningSUMOffDropsTheUserPagesItAllowed() throws {
        let machine = try Self.run("""
                li t0, 0x40000         # SUM
                csrs sstatus, t0
                la s6, target
                li t1, \(Self.userAlias)
                add s6, s6, t1         # the user's view of target
                ld t3, 0(s6)           # allowed with SUM
                csrc sstatus, t0
                MUST_FAULT s6
                NO_KERNEL_TRAP
            """)
        Self.expectLoadPageFault(machine)
    }

    /// User code reads its page and traps to the kernel, which reads the same address without
    /// SUM: the user's entry must not serve the kernel.
    @Test func theKernelDoesNotUseTheUsersEntries() throws {
        let machine = try Self.run("""
                TO_USER user
                la s6, target
                add s6, s6, t1
                sret
            user:
                ld t3, 0(s6)           # the user's own page
                ecall                  # to the kernel
            .align 2
            strap:
                MUST_FAULT s6          # a user page without SUM
            """)
        Self.expectLoadPageFault(machine)
    }

    /// The kernel reads its page and returns to user code, which reads the same address: the
    /// kernel's entry must not serve the user.
    @Test func theUserDoesNotUseTheKernelsEntries() throws {
        let machine = try Self.run("""
                la s6, target
                ld t3, 0(s6)           # the kernel's own page
                TO_USER user
                sret
            user:
                MUST_FAULT s6          # a supervisor page from U
                NO_KERNEL_TRAP
            """)
        Self.expectLoadPageFault(machine)
    }

    /// Back and forth between user code and the kernel, each keeping its own entries: the
    /// kernel writes a word through its view, the user reads it through its own, many times,
    /// with SUM turned on and off by the kernel in between (each round's value must be seen).
    @Test func entriesKeptAcrossTrapsStillSeeEveryStore() throws {
        let machine = try Self.run("""
                li s5, 0               # rounds
                li s4, 0               # sum the user read
                TO_USER user
                la s3, target          # the kernel's view
                add s6, s3, t1         # the user's view
                sd s5, 0(s3)
                sret
            user:
                ld t3, 0(s6)
                add s4, s4, t3
                ecall
                j user
            .align 2
            strap:
                li t0, 0x40000
                csrs sstatus, t0
                ld t2, 0(s6)           # through the user's view, with SUM
                csrc sstatus, t0
                addi s5, s5, 1
                add t2, t2, s5
                sd t2, 0(s3)           # next value: the last plus the round
                csrr t0, sepc
                addi t0, t0, 4
                csrw sepc, t0
                li t0, 10
                blt s5, t0, back
                EXIT                   # (faults in S-mode: the M handler powers off)
            back:
                sret
            """)
        // The user reads 0, 1, 3, 6, ..., the triangular numbers T(0) to T(9).
        let expected = (0..<10).reduce(0) { $0 + $1 * ($1 + 1) / 2 }
        #expect(machine.hart.register(20) == UInt64(expected), "s4: the sum of what the user read")
        #expect(machine.hart.register(21) == 10, "s5: rounds; s10 \(machine.hart.register(26)) s9 \(String(machine.hart.register(25), radix: 16)) s8 \(String(machine.hart.register(24), radix: 16))")
    }
}
