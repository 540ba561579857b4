import GuestAssembly
import Machine
import RISCV
import Testing

/// Fused pairs (superinstructions, `Sources/RISCV/Fusion.swift`) must be invisible: the same
/// results, the same retired counts, stops exactly at any instruction limit (also between the
/// two halves of a pair), jumps into the middle of a pair, and self-modifying code.
@Suite struct FusionTests {
    /// Instructions that fuse with a following conditional branch (every family, compressed and
    /// not), each writing t0 or a5.
    static let firsts = [
        "addi t0, s1, -3", "add t0, s1, a0", "c.mv a5, s1", "lui t0, 0x12345", "c.li a5, 3",
        "addiw t0, s1, -100", "c.addiw a5, -1", "addw t0, s1, a0", "c.addw a5, a4",
        "andi t0, s1, 3", "c.andi a5, 3", "and t0, s1, a0", "sub t0, s1, a0", "c.sub a5, a4",
        "slliw t0, s1, 30", "srli t0, s1, 1", "c.srli a5, 1",
        "lw t0, 0(s0)", "c.lw a5, 4(s0)", "ld t0, 8(s0)", "c.ld a5, 8(s0)", "lbu t0, 3(s0)",
    ]
    /// Every conditional branch form.
    static let branches = ["beq t0, t1", "bne t0, t1", "blt t0, t1", "bge t0, t1", "bltu t0, t1", "bgeu t0, t1",
                           "c.beqz a5", "c.bnez a5"]
    /// Instructions a branch may skip without a host branch, and some it may not.
    static let skipped = ["addi a0, a0, 3", "add a1, a1, a2", "mv a2, s1", "li a3, 7", "xor a1, a1, s1",
                          "xori a2, a2, 5", "c.xor a4, a5", "c.mv a4, s1", "c.li a4, 9", "c.addi a4, 1",
                          "or a3, a3, s1", "sw a0, 16(s0)"]

    /// Pairs of two ALU instructions (of every length the pair can have).
    static let aluPairs = ["srli t0, s1, 3\n    slliw a2, t0, 1", "c.srli a5, 1\n    slliw a3, a5, 31",
                           "slli t0, s1, 60\n    addiw a2, t0, -1", "c.slli a5, 33\n    c.addiw a4, 7",
                           "slli t0, s1, 31\n    addw a3, t0, a2", "c.slli a5, 2\n    c.addw a4, a5",
                           "slli t0, s1, 5\n    c.addiw a4, 3", "c.slli a5, 3\n    addw a3, a5, a2"]

    /// Two loads or two stores of one width (s0 points at 32 bytes of data, s2 at 8 bytes before
    /// a page boundary, so that a pair there runs as two single instructions), and loads that must
    /// not fuse (the first writes the base).
    static let memoryPairs = ["ld t0, 0(s0)\n    ld t1, 8(s0)", "c.ld a5, 8(s0)\n    c.ld a4, 0(s0)",
                              "ld a2, 8(s0)\n    c.ld a3, 0(s0)", "lw t0, 4(s0)\n    lw t1, 0(s0)",
                              "c.lw a5, 12(s0)\n    lw a3, 8(s0)", "lw t0, 2(s0)\n    lw t1, 8(s0)",
                              "sd a0, 16(s0)\n    sd s1, 24(s0)", "c.sd a5, 24(s0)\n    c.sd a4, 16(s0)",
                              "c.sd a5, 16(s0)\n    sd a1, 24(s0)", "sd a2, 24(s0)\n    c.sd a4, 16(s0)",
                              "sd a1, 16(s0)\n    sd a1, 16(s0)", "sd a0, 0(s2)\n    sd a1, 8(s2)",
                              "ld t0, 0(s2)\n    ld t1, 8(s2)", "ld t0, -8(s2)\n    ld t1, 0(s2)",
                              "sd s0, 24(s0)\n    mv t2, s0\n    ld t2, 24(t2)\n    ld t1, 8(t2)", "sd a0, 24(s0)\n    sd a2, 4(s0)"]

    /// A loop over every first-instruction family and branch form, every skip, the ALU pairs, the
    /// memory pairs, a pair entered in its middle, and pairs at the end of a page and branching
    /// to another page.
    static var program: String {
        var body = ""
        var label = 10
        for first in firsts {
            for branch in branches {
                body += "    \(first)\n    \(branch), \(label)f\n    addi a0, a0, 1\n    xor a1, a1, a0\n\(label):\n"
                label += 1
            }
        }
        for branch in branches {
            for skip in skipped {
                body += "    \(branch), \(label)f\n    \(skip)\n\(label):\n"
                // The same skip after an instruction that would fuse with its branch.
                body += "    srli t0, s1, 1\n    \(branch), \(label + 1)f\n    \(skip)\n\(label + 1):\n"
                label += 2
            }
        }
        body += aluPairs.map { "    \($0)\n" }.joined()
        // The memory pairs write s1-derived values, so that every pass stores something new.
        body += "    la s2, edge\n    addi a2, s1, 5\n"
        body += memoryPairs.map { "    \($0)\n    add a0, a0, t1\n" }.joined()
        return """
                la s0, data
                li s1, 40
                li a0, 1
                li a4, 5
            loop:
                sw s1, 0(s0)
                sd a0, 8(s0)
                andi t1, s1, 7
                addi t1, t1, -3
                andi a5, s1, 3
            \(body)
                # Enter a pair in its middle: `addi a6; blt` fuse, the jump lands on the blt.
                li a6, 0
                li a7, 9
                j 5f
            4:  addi a6, a6, 2
            5:  blt a6, a7, 4b
                # A pair that ends exactly at the end of a page, and one on the next page that
                # branches back to the first page.
                j 8f
                .balign 4096
                .skip 4088
            8:  addi t0, s1, -1
                bnez t0, 9f
            9:  add a2, a2, t0
                addi s1, s1, -1
                beqz s1, 3f
                j loop
            3:  EXIT
                .balign 8
            data:
                .dword 0x1122334455667788, 0x8000000000000001, 0, 0
                .balign 4096
                .skip 4088
                .dword 0x0102030405060708
            edge:
                .dword 0x1112131415161718
            """
    }

    static func registers(_ machine: Machine) -> [UInt64] {
        [machine.hart.pc, machine.hart.instructionCount] + (1..<32).map { machine.hart.register($0) }
    }

    static func load(_ image: [UInt8]) throws -> Machine {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
        machine.memory.write(image, at: MachineConfiguration.ramBase)
        return machine
    }

    /// One machine single-steps (a pair never runs as one when one instruction may retire);
    /// another runs to limits that grow by 1 to 5 instructions; a third runs in one go. At every
    /// limit the second stops exactly there, in the state the first has there.
    @Test func pairsRetireExactlyAsSingleSteps() throws {
        let image = try Assembler.assemble(Self.program)
        let stepper = try Self.load(image), chunked = try Self.load(image), whole = try Self.load(image)
        var limit: UInt64 = 0
        var stepped: UInt64 = 0
        var checked = 0
        while true {
            limit += 1 + UInt64(checked * 7 % 5)   // steps of 1 to 5, in a mixed order
            let stop = chunked.run(instructionLimit: limit)
            while stepped < chunked.hart.instructionCount {
                stepped += 1
                _ = stepper.run(instructionLimit: stepped)
            }
            if stop == .instructionLimit { #expect(chunked.hart.instructionCount == limit) }
            #expect(Self.registers(chunked) == Self.registers(stepper), "at \(stepped) instructions")
            checked += 1
            if stop != .instructionLimit {
                #expect(stop == .exited(code: 0))
                break
            }
            if checked > 100_000 { Issue.record("runaway"); return }
        }
        #expect(whole.run(instructionLimit: 10_000_000) == .exited(code: 0))
        #expect(Self.registers(whole) == Self.registers(stepper))
        #expect(whole.stateHash() == stepper.stateHash())
        #expect(stepped > 30_000)
    }

    /// Rewriting the second instruction of a pair that has run fused (a branch, then a skipped
    /// instruction) takes effect: the pair's slot is decoded again.
    @Test func rewritingTheSecondHalfOfAPair() throws {
        let machine = try Assembler.run("""
                li a0, 0
                li s1, 3
                la t2, patch
                lw t3, 0(t2)          # the encoding of `addi a0, a0, 100`
                la t4, second
                la t5, skipped
            again:
                addi a1, s1, -1       # fuses with the beq after it
            second:
                beq a1, a1, 1f        # taken: rewritten into an addi below
                addi a0, a0, 1000
                addi a0, a0, 1000
            1:  beq s1, zero, 2f      # skips one instruction
            skipped:
                addi a0, a0, 1
            2:  sw t3, 0(t4)          # second := addi a0, a0, 100
                sw t3, 0(t5)          # skipped := addi a0, a0, 100
                fence.i
                addi s1, s1, -1
                bnez s1, again
                EXIT
                .balign 4
            patch:
                addi a0, a0, 100
            """)
        // Pass 1: beq taken, +1. Passes 2 and 3: +100 (second), +2000, +100 (skipped).
        #expect(machine.hart.register(Reg.a0) == 1 + 2 * 2200)
    }
}
