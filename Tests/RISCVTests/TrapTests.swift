import GuestAssembly
import Machine
import RISCV
import Testing

/// Traps, privilege and CSR behaviour, with expectations taken from the privileged ISA manual.
/// Handlers copy mcause/mepc/mtval into registers so the test reads what the guest saw.
@Suite struct TrapTests {
    /// A handler that records mcause/mepc/mtval in a0/a1/a2 and powers off.
    static let recordingHandler = """
        .align 2
        handler:
            csrr a0, mcause
            csrr a1, mepc
            csrr a2, mtval
            EXIT
        """

    func trap(_ body: String) throws -> (cause: UInt64, epc: UInt64, tval: UInt64, machine: Machine) {
        let m = try Assembler.run("""
                la t0, handler
                csrw mtvec, t0
            \(body)
                EXIT
            \(Self.recordingHandler)
            """)
        return (m.hart.register(Reg.a0), m.hart.register(Reg.a1), m.hart.register(Reg.a2), m)
    }

    @Test func illegalInstructionReportsEncoding() throws {
        let t = try trap("""
                nop
            bad: .word 0xffffffff
            """)
        #expect(t.cause == 2)
        #expect(t.tval == 0xffff_ffff)
        #expect(t.epc > 0x8000_0000 && t.epc < 0x8000_0040)
        #expect(t.machine.hart.debugReadCSR(0x341) == t.epc)
    }

    @Test func compressedIllegalReportsSixteenBits() throws {
        let t = try trap(".half 0x0000")   // the all-zero parcel is defined to be illegal
        #expect(t.cause == 2)
        #expect(t.tval == 0)
    }

    @Test func environmentCallFromMachineMode() throws {
        let t = try trap("ecall")
        #expect(t.cause == 11)
    }

    @Test func environmentCallFromUserModeAndPrivilegeChecks() throws {
        let t = try trap("""
                li t0, 0x1800
                csrc mstatus, t0      # MPP = U
                la t0, user
                csrw mepc, t0
                mret
            user:
                ecall
            """)
        #expect(t.cause == 8)
        let u = try trap("""
                li t0, 0x1800
                csrc mstatus, t0
                la t0, user
                csrw mepc, t0
                mret
            user:
                csrr a5, mstatus      # M-mode CSR from U-mode: illegal
            """)
        #expect(u.cause == 2)
        #expect(u.tval == 0x3000_27f3)  // csrr a5, mstatus
    }

    @Test func breakpoint() throws {
        let t = try trap("ebreak")
        #expect(t.cause == 3)
        #expect(t.tval == t.epc)
    }

    @Test func loadAccessFault() throws {
        let t = try trap("ld a3, 8(zero)")
        #expect(t.cause == 5)
        #expect(t.tval == 8)
    }

    @Test func storeAccessFault() throws {
        let t = try trap("""
                li t1, 0x40000000
                sw zero, 4(t1)
            """)
        #expect(t.cause == 7)
        #expect(t.tval == 0x4000_0004)
    }

    @Test func misalignedAtomicsTrapButOrdinaryAccessesDoNot() throws {
        let amo = try trap("""
                la t1, data
                addi t1, t1, 2
                amoadd.w a4, a3, (t1)
            .data
            .align 3
            data: .dword 0
            .text
            """)
        #expect(amo.cause == 6)
        let lr = try trap("""
                la t1, data
                addi t1, t1, 4
                lr.d a4, (t1)
            .data
            .align 3
            data: .dword 0
            .text
            """)
        #expect(lr.cause == 4)
        let m = try Assembler.run("""
                la t1, data
                li t2, 0x1122334455667788
                sd t2, 3(t1)
                ld a3, 3(t1)
                lhu a4, 5(t1)
                EXIT
            .data
            .align 3
            data: .zero 16
            """)
        #expect(m.hart.register(Reg.a3) == 0x1122_3344_5566_7788)
        #expect(m.hart.register(Reg.a4) == 0x5566)
    }

    @Test func floatingPointIsIllegalWhileFSIsOff() throws {
        let t = try trap("""
                li t0, 0x6000
                csrc mstatus, t0
                fadd.d fa0, fa1, fa2
            """)
        #expect(t.cause == 2)
        let flags = try trap("""
                li t0, 0x6000
                csrc mstatus, t0
                csrr a5, fflags
            """)
        #expect(flags.cause == 2)
    }

    @Test func writingReadOnlyCSRIsIllegal() throws {
        let t = try trap("csrw mvendorid, zero")
        #expect(t.cause == 2)
        let counter = try trap("csrw cycle, zero")
        #expect(counter.cause == 2)
    }

    @Test func timerInterruptVectored() throws {
        let m = try Assembler.run("""
                la t0, vectors
                ori t0, t0, 1
                csrw mtvec, t0
                li t1, 0x200bff8
                ld t2, 0(t1)          # mtime
                addi t2, t2, 100
                li t1, 0x2004000
                sd t2, 0(t1)          # mtimecmp = mtime + 100
                li t0, 0x80
                csrs mie, t0          # MTIE
                csrsi mstatus, 8      # MIE
            spin:
                wfi
                j spin
            .align 6
            .option push
            .option norvc             # vector entries are 4 bytes apart
            vectors:
                .rept 7
                j wrong
                .endr
                j timer
            .option pop
            wrong:
                li a0, 99
                EXIT
            timer:
                csrr a0, mcause
                csrr a1, mip
                rdtime a2
                EXIT
            """)
        #expect(m.hart.register(Reg.a0) == (UInt64(1) << 63) | 7)
        #expect(m.hart.register(Reg.a1) & 0x80 != 0)
    }

    @Test func instretCountsRetiredInstructions() throws {
        let m = try Assembler.run("""
                rdinstret a0
                nop
                nop
                rdinstret a1
                EXIT
            """)
        #expect(m.hart.register(Reg.a0) == 0)
        #expect(m.hart.register(Reg.a1) == 3)
    }

    @Test func storesIntoCodeAreSeenByLaterFetches() throws {
        // Overwrite an already executed `li a0, 1` with `li a0, 2` and run it again.
        let m = try Assembler.run("""
                li s1, 0
            again:
            patch:
                c.li a0, 1
                bnez s1, done
                li s1, 1
                la t0, patch
                lhu t1, replacement
                sh t1, 0(t0)
                fence.i
                j again
            done:
                EXIT
            .align 2
            replacement:
                c.li a0, 2
            """)
        #expect(m.hart.register(Reg.a0) == 2)
    }
}
