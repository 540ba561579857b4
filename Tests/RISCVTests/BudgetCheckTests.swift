import Machine
import RISCV
import Testing

/// While a budget is large the fast loop checks it only at jumps, taken branches and page changes
/// (`Sources/RISCV/BudgetCheck.swift`). Straight runs longer than a page must still stop exactly
/// at any instruction limit, in the state single steps reach there.
@Suite struct BudgetCheckTests {
    /// Straight runs of compressed and 4-byte instructions, each longer than a page, a not-taken
    /// and a taken branch, and a loop around them.
    static let program = """
            li s1, 4
        loop:
            .rept 2500
            c.addi a0, 1
            .endr
            addi a1, a1, 3
            beqz a1, 1f
            .rept 1100
            addi a2, a2, 1
            .endr
        1:  bnez a1, 2f
            addi a3, a3, 7
        2:  xori a4, a4, 5
            addi s1, s1, -1
            bnez s1, loop
            EXIT
        """

    static func state(_ machine: Machine) -> [UInt64] {
        [machine.hart.pc, machine.hart.instructionCount] + (1..<32).map { machine.hart.register($0) }
    }

    @Test func largeBudgetsStopExactly() throws {
        let image = try Assembler.assemble(Self.program)
        func load() throws -> Machine {
            let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
            machine.memory.write(image, at: MachineConfiguration.ramBase)
            return machine
        }
        // The reference runs in steps of 1 to 5 instructions: budgets far below the cheap
        // check's floor, so every instruction is checked.
        let reference = try load()
        var limits: [UInt64] = [4097, 4098, 5000, 6143, 8191, 8192, 9000]
        limits += stride(from: 10_000, to: 14_000, by: 877).map { UInt64($0) }
        var checked = 0
        for limit in limits {
            var step: UInt64 = 1
            while reference.hart.instructionCount < limit {
                _ = reference.run(instructionLimit: min(limit, reference.hart.instructionCount + step))
                step = step % 5 + 1
            }
            let whole = try load()
            #expect(whole.run(instructionLimit: limit) == .instructionLimit)
            #expect(whole.hart.instructionCount == limit)
            #expect(Self.state(whole) == Self.state(reference), "at \(limit) instructions")
            checked += 1
        }
        #expect(checked == limits.count)
        // And to the end, in one go.
        let whole = try load()
        #expect(whole.run(instructionLimit: 10_000_000) == .exited(code: 0))
        #expect(whole.hart.register(10) == 4 * 2500)
        #expect(whole.hart.register(13) == 0)   // the addi after `bnez a1` never runs
    }
}
