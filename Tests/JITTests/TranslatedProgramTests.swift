import GuestAssembly
import JIT
import Machine
import Testing

/// Small programs, each aimed at one way a translated block can go wrong, run on the JIT and
/// compared with the interpreter stepped one instruction at a time, at every instruction count:
/// a fresh JIT machine runs straight to each count (so blocks run and the budget cuts them
/// there), one JIT machine steps one instruction at a time, and a fresh interpreter runs
/// straight to each count too. Each program also checks its own results, so a wrong answer that both
/// engines shared would fail too.
@Suite struct TranslatedProgramTests {
    /// A program's machine: the bytes at RAM base, run from there. The JIT translates every
    /// block the first time it runs (these programs run most code a few times only) and chooses
    /// its register allocation at `allocationChoices` (by default, never within these programs).
    static func machine(_ program: [UInt8], engine: ExecutionEngine,
                        allocationChoices: [UInt64] = JITAccelerator.defaultAllocationChoices) throws -> Machine {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
        machine.memory.write(program, at: MachineConfiguration.ramBase)
        if engine == .jit {
            machine.hart.accelerator = try JITAccelerator(translationThreshold: 0, allocationChoices: allocationChoices)
        }
        return machine
    }

    struct Point: Equatable {
        var stop: Machine.StopReason
        var count: UInt64
        var pc: UInt64
        var hash: UInt64

        init(_ machine: Machine, _ stop: Machine.StopReason) {
            self.stop = stop
            count = machine.instructionCount
            pc = machine.hart.pc
            hash = machine.stateHash()
        }
    }

    /// Compares the engines at every count until the program exits (at most `limit`
    /// instructions); returns the JIT machine run to the end.
    @discardableResult
    static func expectSameAtEveryCount(_ source: String, limit: UInt64 = 5_000,
                                       allocationChoices: [UInt64] = JITAccelerator.defaultAllocationChoices) throws -> Machine {
        let program = try Assembler.assemble(source)
        let interpreter = try machine(program, engine: .interpreter)
        var points: [Point] = []
        for count in 1...limit {
            let stop = interpreter.run(instructionLimit: count)
            points.append(Point(interpreter, stop))
            if stop != .instructionLimit { break }
        }
        #expect(points.last?.stop == .exited(code: 0), "the program did not exit cleanly within \(limit) instructions")

        let stepping = try machine(program, engine: .jit, allocationChoices: allocationChoices)
        for (index, expected) in points.enumerated() {
            let count = UInt64(index + 1)
            // The interpreter itself, run straight to the count: where a run stops must not
            // change the state (a device read of guest time once saw the count at which the
            // interpreter's inner loop began).
            let straight = try machine(program, engine: .interpreter)
            let run = Point(straight, straight.run(instructionLimit: count))
            guard run == expected else {
                Issue.record("the interpreter differs at count \(count) when run there at once: pc \(hex(run.pc)), stepped \(hex(expected.pc))")
                return stepping
            }
            let fresh = try machine(program, engine: .jit, allocationChoices: allocationChoices)
            let direct = Point(fresh, fresh.run(instructionLimit: count))
            let stepped = Point(stepping, stepping.run(instructionLimit: count))
            guard direct == expected && stepped == expected else {
                Issue.record("""
                    differs at count \(count): interpreter pc \(hex(expected.pc)) \(expected.stop), \
                    jit run to the count pc \(hex(direct.pc)) count \(direct.count) \(direct.stop), \
                    jit stepped pc \(hex(stepped.pc)) count \(stepped.count) \(stepped.stop)
                    """)
                return stepping
            }
        }
        let final = try machine(program, engine: .jit, allocationChoices: allocationChoices)
        #expect(final.run(instructionLimit: limit) == .exited(code: 0))
        #expect(final.stateHash() == interpreter.stateHash())
        return final
    }

    /// Continues at label `supervisor` in S-mode (from M-mode).
    static let enterSupervisorMode = """
            li t0, 0x1800
            csrc mstatus, t0
            li t0, 0x800              # MPP = S
            csrs mstatus, t0
            la t0, supervisor
            csrw mepc, t0
            mret
        """

    @Test func arithmeticDivisionCornersAndX0() throws {
        let m = try Self.expectSameAtEveryCount("""
                li s11, 3
            again:
                li a0, -7
                li a1, 3
                li a2, 0
                li a3, -1
                li a4, 1
                slli a4, a4, 63           # the most negative 64-bit value
                li a5, -2147483648        # the most negative 32-bit value
                div s0, a0, a1
                rem s1, a0, a1
                div s2, a0, a2            # by zero: all ones
                rem s3, a0, a2            # by zero: the dividend
                div s4, a4, a3            # overflow: the dividend
                rem s5, a4, a3            # overflow: 0
                divu s6, a0, a2
                remu s7, a0, a2
                divw s8, a5, a3           # 32-bit overflow
                remw s9, a5, a3
                divuw s10, a0, a2
                remuw t0, a0, a2
                divw t1, a0, a2
                remw t2, a0, a1
                mulh t3, a4, a0
                mulhu t4, a0, a0
                mulhsu t5, a0, a1
                mulw t6, a5, a0
                mul a6, a0, a1
                addi x0, a0, 5            # x0 stays zero
                add x0, a0, a1
                lui x0, 5
                mul x0, a0, a1
                sub a7, zero, a0
                sllw ra, a0, a1
                srlw gp, a0, a1
                sraw tp, a0, a1
                sll s0, s0, a0            # shift counts use the low 6 (5 for W) bits
                sra s1, s1, a0
                srl a6, a6, a0
                slt a1, a0, a1
                sltu a2, a0, a2
                slti a3, a0, -8
                sltiu a4, a0, -1
                addiw a5, a5, -1          # wraps to the largest 32-bit value
                addi s11, s11, -1
                bnez s11, again
                EXIT
            """)
        #expect(m.hart.register(0) == 0)
        #expect(m.hart.register(Reg.a5) == 0x7FFF_FFFF)          // addiw wrapped
        #expect(m.hart.register(18) == ~0)                       // s2: div by zero
        #expect(m.hart.register(24) == 0xFFFF_FFFF_8000_0000)   // s8: divw overflow keeps the dividend
        #expect(m.hart.register(25) == 0)                        // s9: remw overflow
        #expect(m.hart.register(19) == UInt64(bitPattern: -7))   // s3: rem by zero
        #expect(m.hart.register(20) == 1 << 63)                  // s4: div overflow
        #expect(m.hart.register(21) == 0)                        // s5: rem overflow
        #expect(m.hart.register(22) == ~0)                       // s6: divu by zero
    }

    /// Reads guest time from the CLINT's mtime (a device load: the block ends there and the
    /// interpreter runs it) between runs of ALU instructions, so that ticks (50 instructions
    /// each) pass between reads: each read must see the time at its own instruction, however
    /// the runs were cut.
    @Test func deviceReadsOfGuestTime() throws {
        let m = try Self.expectSameAtEveryCount("""
                li s0, 0                  # sum of the times read
                li s1, 40                 # reads
                li s2, 0x200bff8          # mtime
                li s3, 0                  # the last time read
            again:
                li t0, 9
            spin:
                addi t0, t0, -1
                add s4, s4, t0
                bnez t0, spin
                ld t1, 0(s2)
                bltu t1, s3, wrong        # time never goes back
                mv s3, t1
                add s0, s0, t1
                addi s1, s1, -1
                bnez s1, again
                EXIT
            wrong:
                ebreak
            """)
        #expect(m.hart.register(19) > 0, "mtime did not advance over the program")   // s3: the last time read
    }

    /// Patches an instruction it has already run (a block already translated), then runs it
    /// again: in the same block as the store and in a function called again, with and without
    /// `fence.i` (stores reach the interpreter, which invalidates; fence.i is not needed here).
    @Test(arguments: ["fence.i", "nop"])
    func selfModifyingCode(fence: String) throws {
        let m = try Self.expectSameAtEveryCount("""
                li s0, 0                  # sum of what the patched instruction loaded
                li s1, 0                  # index into the replacements
                la s2, replacements
                la s3, patched
                la s5, function
            again:
                slli t1, s1, 2
                add t1, s2, t1
                lw t0, 0(t1)
                sw t0, 0(s3)              # patch the next instruction of this block
                \(fence)
            .option push
            .option norvc
            patched:
                addi a1, zero, 100
            .option pop
                add s0, s0, a1
                jalr ra, 0(s5)            # the function, then patch it
                add s0, s0, a0
                lw t0, 12(t1)             # the function's replacement
                sw t0, 0(s5)
                \(fence)
                jalr ra, 0(s5)
                add s0, s0, a0
                addi s1, s1, 1
                li t2, 3
                blt s1, t2, again
                EXIT
            .option push
            .option norvc
            function:
                addi a0, zero, 0
                ret
            .option pop
            .balign 4
            replacements:
            .option push
            .option norvc
                addi a1, zero, 1
                addi a1, zero, 2
                addi a1, zero, 4
                addi a0, zero, 10
                addi a0, zero, 20
                addi a0, zero, 40
            .option pop
            """)
        // Each round adds the patched addi (1, 2, 4), the function as the last round left it
        // (0, 10, 20) and the function just patched (10, 20, 40).
        #expect(m.hart.register(Reg.s1) == 3)
        #expect(m.hart.register(Reg.s0) == 7 + 30 + 70)
        #expect(m.hart.register(Reg.a1) == 4)
    }

    /// AMOs in blocks: each kind, on words and doublewords (sign extension of a word's old
    /// value), with rd = x0, rd = rs2 and rs2 = x0; one on a code page (its write-TLB probe
    /// misses: the interpreter does it) and one misaligned (the interpreter raises the
    /// exception, the handler skips it).
    @Test func atomicMemoryOperations() throws {
        let m = try Self.expectSameAtEveryCount("""
                la t0, handler
                csrw mtvec, t0
                la s0, word
                li t0, -5
                sd t0, 0(s0)
                li t1, 7
                amoadd.d a0, t1, (s0)     # a0 -5, memory 2
                li t2, 0x80000001
                amoswap.w a1, t2, (s0)    # a1 2, memory 0x80000001
                amoadd.w a2, t1, (s0)     # a2 0xffffffff80000001, memory 0x80000008
                li t3, 0xF0
                amoand.w a3, t3, (s0)     # a3 0xffffffff80000008, memory 0
                amoor.d a4, t1, (s0)      # a4 0, memory 7
                amoxor.d a5, t1, (s0)     # a5 7, memory 0
                amoadd.d x0, t1, (s0)     # memory 7
                amoadd.d t1, t1, (s0)     # t1 7, memory 14
                amoswap.d a6, x0, (s0)    # a6 14, memory 0
                ld a7, 0(s0)
                la s4, codeword
                amoadd.w s5, t1, (s4)     # s5 3, on the code page
                lw s6, 0(s4)              # 10
                addi s1, s0, 2
                amoadd.w s2, t1, (s1)     # misaligned: the handler records the cause
                EXIT
            handler:
                csrr s3, mcause
                csrr t0, mepc
                addi t0, t0, 4
                csrw mepc, t0
                mret
            .balign 4
            codeword: .word 3
            .section .data
            .balign 8
            word: .dword 0
            """)
        #expect(m.hart.register(Reg.a0) == UInt64(bitPattern: -5))
        #expect(m.hart.register(Reg.a1) == 2)
        #expect(m.hart.register(Reg.a2) == 0xFFFF_FFFF_8000_0001)
        #expect(m.hart.register(Reg.a3) == 0xFFFF_FFFF_8000_0008)
        #expect(m.hart.register(Reg.a4) == 0)
        #expect(m.hart.register(Reg.a5) == 7)
        #expect(m.hart.register(Reg.t1) == 7)
        #expect(m.hart.register(Reg.a6) == 14)
        #expect(m.hart.register(Reg.a7) == 0)
        #expect(m.hart.register(Reg.s5) == 3)
        #expect(m.hart.register(Reg.s6) == 10)
        #expect(m.hart.register(Reg.s3) == 6, "store/AMO address misaligned")
    }

    /// A code page that takes many stores stops being a code page (Linux reuses its freed init
    /// code as data), and becomes one again when its code runs. Each round stores into a word
    /// beside a function past the limit, patches the function while its page may not be a code
    /// page, and calls it, which must run the patched instruction. The function is on the
    /// program's own page (retired while it runs), or on a page of its own (which stays retired
    /// while the stores and the patch take the fast path).
    @Test(arguments: [false, true])
    func aCodePageThatTakesManyStores(functionOnItsOwnPage: Bool) throws {
        let m = try Self.expectSameAtEveryCount("""
                li s0, 0                  # sum of what the function returned
                li s1, 0                  # round
                la s2, function
                la s3, word               # on the same page
                la s4, replacements
            again:
                jalr ra, 0(s2)
                add s0, s0, a0
                li t0, 150                # stores into the page
            fill:
                sw t0, 0(s3)
                addi t0, t0, -1
                bnez t0, fill
                slli t1, s1, 2
                add t1, s4, t1
                lw t2, 0(t1)
                sw t2, 0(s2)              # patch the function
                jalr ra, 0(s2)
                add s0, s0, a0
                addi s1, s1, 1
                li t3, 4
                blt s1, t3, again
                EXIT
            \(functionOnItsOwnPage ? ".balign 4096" : "")
            .option push
            .option norvc
            function:
                addi a0, zero, 1
                ret
            .option pop
            .balign 8
            word: .dword 0
            replacements:
            .option push
            .option norvc
                addi a0, zero, 10
                addi a0, zero, 20
                addi a0, zero, 40
                addi a0, zero, 80
            .option pop
            """, limit: 3_000)
        // Each round adds the function before the patch (1, 10, 20, 40) and after (10, 20, 40, 80).
        #expect(m.hart.register(Reg.s0) == 71 + 150)
        #expect(m.hart.register(Reg.s1) == 4)
    }

    /// A load page fault in the middle of a block, in S-mode under Sv39: the handler sees the
    /// faulting load's pc and address, and the count of the instructions before it.
    /// The host writes new code over a function the guest has already run (through
    /// `GuestMemory.write`, the path a device's DMA takes), between two runs: the JIT must drop
    /// its translation and run the new code, at the same counts as the interpreter.
    @Test func codeWrittenByTheHostAsByDMA() throws {
        let program = try Assembler.assemble("""
                li s0, 0                  # sum of what the function returned
                li s1, 40                 # calls
            again:
                jal ra, function
                add s0, s0, a0
                addi s1, s1, -1
                bnez s1, again
                EXIT
            .option push
            .option norvc
            function:
                addi a0, zero, 1          # rewritten by the host to addi a0, zero, 100
                ret
            .option pop
            """)
        let old: [UInt8] = [0x13, 0x05, 0x10, 0x00], new: [UInt8] = [0x13, 0x05, 0x40, 0x06]
        let offsets = (0...(program.count - 4)).filter { Array(program[$0..<$0 + 4]) == old }
        try #require(offsets.count == 1, "addi a0, zero, 1 should occur once in the program")
        let address = MachineConfiguration.ramBase + UInt64(offsets[0])
        for split in stride(from: UInt64(20), through: 140, by: 13) {
            let machines = try [ExecutionEngine.interpreter, .jit].map { engine in
                let m = try Self.machine(program, engine: engine)
                #expect(m.run(instructionLimit: split) == .instructionLimit)
                m.memory.write(new, at: address)
                #expect(m.run(instructionLimit: 10_000) == .exited(code: 0))
                return m
            }
            #expect(machines[0].stateHash() == machines[1].stateHash(), "rewritten after \(split) instructions")
            #expect(machines[1].hart.register(Reg.s0) > 40, "the JIT never ran the rewritten function (split \(split))")
        }
    }

    @Test func pageFaultInTheMiddleOfABlock() throws {
        let m = try Self.expectSameAtEveryCount("""
                la t0, handler
                csrw mtvec, t0
                la t0, table              # one gigapage: virtual 0x80000000 = physical
                li t1, 0x200000cf         # PPN 0x80000 << 10 | D A X W R V
                sd t1, 16(t0)
                srli t0, t0, 12
                li t1, 8
                slli t1, t1, 60
                or t0, t0, t1
                csrw satp, t0
                sfence.vma
            \(Self.enterSupervisorMode)
            supervisor:
                li a0, 1
                li a1, 2
                add a2, a0, a1
                li t2, 0x40000000         # not mapped
                la t3, table
                ld a3, 16(t3)             # a load that hits
            faulting:
                ld a4, 8(t2)              # the fault, inside the block
                addi a5, a5, 1            # never reached
                j supervisor
            .balign 4
            handler:
                csrr s0, mcause
                csrr s1, mepc
                csrr s2, mtval
                csrr s3, minstret
                la t0, faulting
                sub s1, s1, t0            # 0 if mepc is the faulting load
                EXIT
            .balign 4096
            table:
                .zero 4096
            """)
        #expect(m.hart.register(Reg.s0) == 13)                 // load page fault
        #expect(m.hart.register(Reg.s1) == 0)
        #expect(m.hart.register(18) == 0x4000_0008)            // s2: mtval is the address
        #expect(m.hart.register(Reg.a5) == 0)
    }

    /// A timer interrupt that becomes pending inside a loop of straight-line blocks is taken
    /// at exactly the interpreter's count.
    @Test func timerInterruptAtAnExactCount() throws {
        let m = try Self.expectSameAtEveryCount("""
                la t0, handler
                csrw mtvec, t0
                li t0, 0x2004000          # mtimecmp: 37 ticks of 50 instructions
                li t1, 37
                sd t1, 0(t0)
                li t0, 0x80
                csrw mie, t0
                csrsi mstatus, 8
            loop:
                addi a0, a0, 1
                add a1, a1, a0
                xor a2, a2, a1
                slli a3, a2, 3
                sub a4, a3, a1
                or a5, a4, a0
                addi a6, a6, 7
                and a7, a6, a5
                j loop
            .balign 4
            handler:
                csrr s0, mcause
                csrr s1, minstret
                csrr s2, mepc
                EXIT
            """, limit: 2_500)
        #expect(m.hart.register(Reg.s0) == UInt64(1) << 63 | 7)      // machine timer interrupt
        #expect(m.hart.register(Reg.s1) == 37 * 50 + 1)        // taken at the deadline (then one csrr)
    }

    /// Misaligned loads and stores and accesses across a page boundary inside blocks (the
    /// interpreter performs them), and an illegal instruction between translated ones.
    @Test func misalignedAndIllegalInstructions() throws {
        let m = try Self.expectSameAtEveryCount("""
                la t0, handler
                csrw mtvec, t0
                la s0, data
                li s11, 2
            again:
                li a0, 0x1122334455667788
                sd a0, 0(s0)
                addi t1, s0, 1
                ld a1, 0(t1)              # misaligned
                sw a0, 2(t1)              # misaligned
                lh a2, 0(t1)
                lhu a3, 4(t1)
                li t2, 4093
                add t2, s0, t2            # 3 bytes before the next page
                sd a0, 0(t2)              # crosses the page
                lwu a4, 0(t2)             # crosses the page
                lb a5, 3(t2)
                .word 0xffffffff          # illegal: the handler skips it
                addi a6, a6, 1
                addi s11, s11, -1
                bnez s11, again
                EXIT
            .balign 4
            handler:
                csrr t3, mepc
                addi t3, t3, 4
                csrw mepc, t3
                addi s1, s1, 1
                csrr s2, mcause
                mret
            .balign 4096
            data:
                .zero 8192
            """)
        #expect(m.hart.register(Reg.s1) == 2)                  // two illegal instructions
        #expect(m.hart.register(18) == 2)                      // s2: cause illegal instruction
        #expect(m.hart.register(16) == 2)                      // a6
        #expect(m.hart.register(Reg.a1) == 0x0011_2233_4455_6677)
    }

    /// Loads and stores that leave a block (a page not in the TLBs yet, a misaligned access)
    /// after instructions that changed cached registers: the side exit writes back exactly the
    /// registers dirty at its point, and more registers are live than host registers are given
    /// to them (the rest stay in memory).
    @Test func sideExitsWithDirtyCachedRegisters() throws {
        let m = try Self.expectSameAtEveryCount("""
                li s11, 4
                la s0, pages
            again:
                addi a0, a0, 3
                add a1, a1, a0
                slli a2, a1, 2
                sub a3, a2, a0
                xor a4, a3, a1
                or a5, a4, a2
                and a6, a5, a3
                addi a7, a7, 1
                add t3, t3, a7
                add t4, t4, t3
                add t5, t4, a0
                add t6, t5, a1
                slli t1, s11, 12
                add t1, s0, t1
                ld t2, 0(t1)              # a page not touched yet: misses the read TLB
                sd a6, 8(t1)              # misses the write TLB
                add t2, t2, a6
                addi a0, a0, 1
                sw t2, 3(t1)              # misaligned: always the interpreter
                addi a1, a1, 1
                lw s1, 3(t1)
                add s2, s2, s1
                addi s11, s11, -1
                bgez s11, again
                EXIT
            .balign 4096
            pages:
                .zero 5 * 4096
            """)
        #expect(m.hart.register(17) == 5)                      // a7: five rounds
        #expect(m.hart.register(28) == 15)                     // t3: 1 + 2 + 3 + 4 + 5
        #expect(m.hart.register(Reg.a0) == 20)                 // 5 * (3 + 1)
    }

    /// A block that loops to its own start keeps its registers in host registers across
    /// iterations; a load or store that misses the TLB (a new page every 8 iterations) leaves it
    /// in a later iteration, when registers changed in earlier ones are dirty too.
    @Test func aLoopLeavesThroughASideExitInALaterIteration() throws {
        let m = try Self.expectSameAtEveryCount("""
                la s0, data
                li s1, 40
            loop:
                ld t0, 0(s0)              # misses the read TLB on each new page
                add a0, a0, t0
                addi a1, a1, 3
                xor a2, a2, a1
                sd a2, 8(s0)              # misses the write TLB on each new page
                addi s0, s0, 512
                addi s1, s1, -1
                bnez s1, loop
                EXIT
            .balign 4096
            data:
                .zero 6 * 4096
            """)
        #expect(m.hart.register(Reg.a1) == 120)
        #expect(m.hart.register(Reg.s1) == 0)
        #expect(m.hart.register(Reg.a0) == 0)
    }

    /// One instruction per block after setting its destination from a seed: every way the
    /// destination can be a source (rd = rs1, rd = rs2, all three), x0 as a source, with the
    /// registers in host registers; each result is stored and checked against its value.
    @Test func destinationsThatAreSources() throws {
        let a0: UInt64 = 0x1_2345_6789, a1 = UInt64(bitPattern: -5), a2: UInt64 = 7
        func sext32(_ value: UInt64) -> UInt64 { UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: value))) }
        let cases: [(seed: String, instruction: String, expected: UInt64)] = [
            ("a0", "sub a3, a1, a3", a1 &- a0),
            ("a1", "sub a3, a3, a2", UInt64(bitPattern: -12)),
            ("a2", "sub a3, a3, a3", 0),
            ("a0", "subw a3, a2, a3", sext32(a2 &- a0)),
            ("a2", "sll a3, a0, a3", a0 << 7),
            ("a2", "sraw a3, a1, a3", ~0),
            ("a1", "slt a3, a3, a2", 1),
            ("a2", "sltu a3, a1, a3", 0),
            ("a2", "mul a3, a0, a3", a0 &* 7),
            ("a2", "mulw a3, a3, a3", 49),
            ("a0", "add a3, a3, a3", a0 &* 2),
            ("a1", "addw a3, a2, a3", 2),
            ("a0", "and a3, a1, a3", a0 & a1),
            ("a0", "xor a3, a3, a3", 0),
            ("a0", "or a3, a3, a1", a0 | a1),
            ("a2", "div a3, a0, a3", a0 / 7),
            ("a0", "remw a3, a3, a2", sext32(UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: a0) % 7)))),
            ("a2", "srl a3, a3, a3", 0),
            ("a1", "mulhu a3, a3, a2", 6),
            ("a2", "divu a3, a1, a3", a1 / 7),
            ("a2", "rem a3, a1, a3", a1),
            ("a2", "srlw a3, a1, a3", 0x01FF_FFFF),
            ("a1", "addi a3, a3, -1", UInt64(bitPattern: -6)),
            ("a0", "addiw a3, a3, 1", sext32(a0 + 1)),
            ("a1", "slti a3, a3, 5", 1),
            ("a2", "sltiu a3, a3, -1", 1),
            ("a1", "andi a3, a3, 0xF0", 0xF0),
            ("a1", "srai a3, a3, 1", UInt64(bitPattern: -3)),
            ("a2", "slliw a3, a3, 31", 0xFFFF_FFFF_8000_0000),
            ("a0", "srliw a3, a3, 4", 0x0234_5678),
            ("a1", "xori a3, a3, -1", 4),
            ("a0", "sltiu a3, a3, 1", 0),
            ("a1", "sub a3, zero, a3", 5),
            ("a2", "sltu a3, zero, a3", 1),
            ("a0", "sll a3, a3, zero", a0),
            ("a0", "add a3, zero, zero", 0),
            ("a0", "addiw a3, zero, -1", ~0),
            ("a0", "add zero, a3, a3", a0),
        ]
        var source = """
                li s11, 2
            again:
                la s0, results
                li a0, \(a0)
                li a1, -5
                li a2, 7

            """
        for (index, test) in cases.enumerated() {
            source += """
                    mv a3, \(test.seed)
                    \(test.instruction)
                    sd a3, \(8 * index)(s0)
                    j 1f
                1:

                """
        }
        source += """
                la a4, results            # a load and a store whose address register is the destination and the value
                ld a4, 0(a4)
                la a5, scratch
                sd a5, 0(a5)
                ld a6, 0(a5)
                sub a6, a6, a5            # 0
                la a7, target             # jalr whose destination is its source
                jalr a7, 0(a7)
            target:
                la t0, target
                sub a7, a7, t0            # the link is the address of target: 0
                addi s11, s11, -1
                bnez s11, again
                EXIT
            .balign 8
            scratch:
                .dword 0
            results:
                .zero \(8 * cases.count)
            """
        let m = try Self.expectSameAtEveryCount(source, limit: 2_000)
        let results = m.hart.register(Reg.s0)
        for (index, test) in cases.enumerated() {
            let value = m.memory.load64(at: results + UInt64(8 * index))
            #expect(value == test.expected, "\(test.instruction) with a3 = \(test.seed) gave \(hex(value)), not \(hex(test.expected))")
        }
        #expect(m.hart.register(Reg.a4) == a1 &- a0)
        #expect(m.hart.register(16) == 0)                      // a6
        #expect(m.hart.register(17) == 0)                      // a7
    }

    /// Indirect calls and returns that the blocks look up themselves: a function on another
    /// page, rewritten by a store between calls (its block is stale at the next lookup), and
    /// a function on the caller's own page, both called through `jalr` and left through `ret`.
    @Test func indirectCallsToCodeChangedByAStore() throws {
        let m = try Self.expectSameAtEveryCount("""
                li s0, 0                  # sum of the results, weighted by round
                li s1, 1                  # round
                la s5, far
                la s6, near
                li s7, 0x513              # addi a0, zero, 0 (the immediate goes in bits 20-31)
            again:
                jalr ra, 0(s5)            # the function as the last round left it
                mul t0, a0, s1
                add s0, s0, t0
                slli t1, s1, 20
                or t1, t1, s7
                sw t1, 0(s5)              # now: addi a0, zero, round
                jalr ra, 0(s5)
                add s0, s0, a0
                jalr ra, 0(s6)
                add s0, s0, a0
                addi s1, s1, 1
                li t2, 6
                blt s1, t2, again
                EXIT
            .balign 4
            .option push
            .option norvc
            near:
                addi a0, zero, 100
                ret
            .balign 4096
            far:
                addi a0, zero, 7
                ret
            .option pop
            """)
        // Round r adds r * (r - 1, or 7 in round 1), then r, then 100.
        let expected = 7 + (2 ... 5).reduce(0) { $0 + $1 * ($1 - 1) } + (1 ... 5).reduce(0, +) + 500
        #expect(m.hart.register(Reg.s0) == UInt64(expected))
    }

    /// A call through `jalr` to a virtual page whose mapping changes between calls, by a page
    /// table store and `sfence.vma` or by a `satp` write that switches page tables: the lookup
    /// in generated code must miss (the fetch TLB was flushed), as must the call site's
    /// jump-target cache (which found the old block through the old mapping), and the function
    /// the new mapping shows runs. The return crosses pages through the lookup too.
    @Test(arguments: ["sfence", "satp"])
    func indirectCallsToARemappedPage(change: String) throws {
        // Two page-table trees, each mapping virtual 0x80000000 as one gigapage (identity) and
        // virtual 0x40010000 as one 4 KiB page: tree A to `one`, tree B to `two`. (Not
        // 0x40000000: its fetch-TLB entry would be the caller's page's, each evicting the other.)
        func tree(_ name: String, leaf: String) -> String {
            """
                la t0, root\(name)
                li t1, 0x200000cf         # PPN 0x80000 << 10 | D A X W R V
                sd t1, 16(t0)
                la t2, l1\(name)
                srli t2, t2, 12
                slli t2, t2, 10
                ori t2, t2, 1
                sd t2, 8(t0)              # root[1]: the next level
                la t0, l1\(name)
                la t2, l0\(name)
                srli t2, t2, 12
                slli t2, t2, 10
                ori t2, t2, 1
                sd t2, 0(t0)
                la t2, \(leaf)
                srli t2, t2, 12
                slli t2, t2, 10
                ori t2, t2, 0xcb          # D A X R V
                la t0, l0\(name)
                sd t2, 128(t0)            # entry 16: 0x40010000

            """
        }
        let remap = change == "sfence"
            ? """
                andi t0, s1, 1            # the mapping for the next round
                la t1, l0A
                beqz t0, 1f
                la t2, l0C                # odd rounds: back to `one` (a copy of A's leaf)
                j 2f
            1:
                la t2, l0B                # even rounds: tree A's leaf becomes tree B's
            2:
                ld t2, 128(t2)
                sd t2, 128(t1)
                sfence.vma
            """
            : """
                andi t0, s1, 1            # the tree for the next round
                mv t1, s9
                beqz t0, 1f
                mv t1, s8
            1:
                csrw satp, t1             # switches trees (and flushes the TLBs)
            """
        let m = try Self.expectSameAtEveryCount("""
                la t0, handler
                csrw mtvec, t0
            \(tree("A", leaf: "one"))
            \(tree("B", leaf: "two"))
                la t0, l0A
                ld t1, 128(t0)
                la t0, l0C
                sd t1, 128(t0)            # a copy of A's leaf, to map `one` back
                la t0, rootA
                srli t0, t0, 12
                li t1, 8
                slli t1, t1, 60
                or s8, t0, t1             # satp for tree A
                la t0, rootB
                srli t0, t0, 12
                or s9, t0, t1             # satp for tree B
                csrw satp, s8
                sfence.vma
            \(Self.enterSupervisorMode)
            supervisor:
                li s0, 0
                li s1, 6
                li s2, 0x40010000
            loop:
                li s4, 3                  # three calls per mapping: by the third, the site
            call:                         # has the block in its jump-target cache
                jalr ra, 0(s2)            # `one` returns 1, `two` returns 2
                addi s4, s4, -1
                bnez s4, call
                slli s0, s0, 2
                add s0, s0, a0
            \(remap)
                addi s1, s1, -1
                bnez s1, loop
                ecall
            .balign 4
            handler:
                csrr s3, mcause
                EXIT
            .balign 4096
            one:
                li a0, 1
                ret
            .balign 4096
            two:
                li a0, 2
                ret
            .balign 4096
            rootA:
                .zero 4096
            l1A:
                .zero 4096
            l0A:
                .zero 4096
            rootB:
                .zero 4096
            l1B:
                .zero 4096
            l0B:
                .zero 4096
            l0C:
                .zero 4096
            """, limit: 3_000)
        #expect(m.hart.register(19) == 9)                      // s3: ecall from S-mode
        // Rounds 6 (even: `one`) down to 1 alternate: 1, 2, 1, 2, 1, 2 in base 4.
        #expect(m.hart.register(Reg.s0) == 0b01_10_01_10_01_10)
    }

    /// Branches forwards inside a block: over one to three instructions of one destination they
    /// are if-converted (both paths computed, the old value kept and the budget given back when
    /// taken), otherwise they leave the block when taken and the block goes on when not. Every
    /// kind: a 4-byte branch over compressed instructions, a destination in a host register and
    /// one in memory, a destination the branch reads, x0, three instructions, a device load (an
    /// exit to the interpreter) after an if-converted branch, each branch taken and not taken.
    @Test func branchesForwardInsideABlock() throws {
        let m = try Self.expectSameAtEveryCount("""
                li s11, 24
                li s0, 0
                li a0, 1
                li s1, 0
                li s3, 0
                li a1, 0
                li a2, 0
                li a3, 0
                li a5, 0
                li s2, 0x200bff8          # mtime: a device load, always the interpreter's
            again:
                andi t0, s11, 1
                andi t1, s11, 2
                beqz t0, 1f               # over one instruction, destination in a host register
                xor s0, s0, s11
            1:  bne t0, t1, 2f            # a 4-byte branch over two compressed instructions
                addi a0, a0, 3
                slli a0, a0, 1
            2:  blt t0, t1, 3f            # over two destinations: a side exit
                addi a1, a1, 1
                addi a2, a2, 1
            3:  bgeu t1, t0, 4f           # the destination (in memory) is the branch's operand
                addi t1, t1, 5
            4:  add s1, s1, t1
                bltu t0, t1, 5f           # the destination is x0
                add x0, t0, t1
            5:  bge t0, t1, 6f            # then a load the interpreter runs
                addiw a3, a3, 7
            6:  ld t2, 0(s2)
                bnez t0, 7f               # over three instructions, destination in memory
                addi s3, s3, 1
                slli s3, s3, 2
                xori s3, s3, 5
            7:  beqz t0, 8f               # a 4-byte branch over one compressed instruction,
                addi a5, a5, 3            # then more of the same destination after the target
            8:  slli a5, a5, 1
                addi a5, a5, 1
                addi s11, s11, -1
                bnez s11, again
                EXIT
            """)
        var s0: UInt64 = 0, a0: UInt64 = 1, s1: UInt64 = 0, s3: UInt64 = 0, a1: UInt64 = 0, a3: UInt64 = 0, a5: UInt64 = 0
        for s11 in stride(from: UInt64(24), through: 1, by: -1) {
            let t0 = s11 & 1
            var t1 = s11 & 2
            if t0 != 0 { s0 ^= s11 }
            if t0 == t1 { a0 = (a0 + 3) << 1 }
            if t0 >= t1 { a1 += 1 }
            if t1 < t0 { t1 += 5 }
            s1 += t1
            if t0 < t1 { a3 += 7 }
            if t0 == 0 { s3 = ((s3 + 1) << 2) ^ 5 }
            if t0 != 0 { a5 += 3 }
            a5 = a5 << 1 + 1
        }
        #expect(m.hart.register(Reg.s0) == s0)
        #expect(m.hart.register(Reg.a0) == a0)
        #expect(m.hart.register(9) == s1)
        #expect(m.hart.register(19) == s3)
        #expect(m.hart.register(Reg.a1) == a1)
        #expect(m.hart.register(Reg.a2) == a1)
        #expect(m.hart.register(Reg.a3) == a3)
        #expect(m.hart.register(Reg.a5) == a5)
    }

    /// The register allocation changes while the program runs: first a loop over fifteen
    /// registers (more than there are host registers for), then one over a0-a7, with an
    /// allocation choice during each. Each iteration reads a CSR (the interpreter's), so the
    /// loop where choices are made runs. Every block before a change was translated under the
    /// old allocation, and the state must not show it.
    @Test func registerAllocationChangesMidRun() throws {
        let m = try Self.expectSameAtEveryCount("""
                li s11, 30
            phase1:
                csrr zero, mscratch
                add t0, t0, s11
                xor t1, t1, t0
                add t2, t2, t1
                slli t3, t2, 1
                add t4, t4, t3
                xor t5, t5, t4
                add s2, s2, t5
                add s3, s3, s2
                xor s4, s4, s3
                add s5, s5, s4
                add s6, s6, s5
                xor s7, s7, s6
                sub s8, s8, s7
                add s9, s9, s8
                addi s11, s11, -1
                bnez s11, phase1
                li s11, 80
            phase2:
                csrr zero, mscratch
                add a0, a0, s11
                xor a1, a1, a0
                add a2, a2, a1
                slli a3, a2, 1
                add a4, a4, a3
                xor a5, a5, a4
                add a6, a6, a5
                sub a7, a7, a6
                addi s11, s11, -1
                bnez s11, phase2
                EXIT
            """, limit: 2_000, allocationChoices: [100, 1_000])
        let accelerator = try #require(m.hart.accelerator as? JITAccelerator)
        #expect(accelerator.statistics.allocationChanges == 2)
    }
}
