import GuestAssembly
import Foundation
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

    /// The check runs on a thread of its own with a deadline: a broken resume point can make
    /// a run spin without retiring anything, and that must fail here, not hang the test run.
    @Test func largeBudgetsStopExactly() throws {
        let image = try Assembler.assemble(Self.program)
        let result = Result()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            result.set(Swift.Result { try Self.compare(image) })
            done.signal()
        }
        guard done.wait(timeout: .now() + 120) == .success else {
            Issue.record("the runs did not finish in 120 s: a run that retires nothing (is the fast loop's resume point broken?)")
            return
        }
        let mismatches = try result.get()
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// Runs the program to each limit in one go and in steps of 1 to 5 instructions, and to its
    /// end; returns what differed.
    static func compare(_ image: [UInt8]) throws -> [String] {
        func load() throws -> Machine {
            let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
            machine.memory.write(image, at: MachineConfiguration.ramBase)
            return machine
        }
        var mismatches: [String] = []
        // The reference runs in steps of 1 to 5 instructions: budgets far below the cheap
        // check's floor, so every instruction is checked.
        let reference = try load()
        var limits: [UInt64] = [4097, 4098, 5000, 6143, 8191, 8192, 9000]
        limits += stride(from: 10_000, to: 14_000, by: 877).map { UInt64($0) }
        for limit in limits {
            var step: UInt64 = 1
            while reference.hart.instructionCount < limit {
                let before = reference.hart.instructionCount
                _ = reference.run(instructionLimit: min(limit, before + step))
                guard reference.hart.instructionCount > before else {
                    return mismatches + ["a run of \(step) from \(before) instructions retired nothing"]
                }
                step = step % 5 + 1
            }
            let whole = try load()
            let stop = whole.run(instructionLimit: limit)
            if stop != .instructionLimit { mismatches.append("at \(limit): stopped with \(stop)") }
            if whole.hart.instructionCount != limit {
                mismatches.append("at \(limit): \(whole.hart.instructionCount) instructions retired")
            }
            if Self.state(whole) != Self.state(reference) {
                mismatches.append("at \(limit) instructions: \(Self.state(whole)) in one go, \(Self.state(reference)) in steps")
            }
        }
        // And to the end, in one go.
        let whole = try load()
        let stop = whole.run(instructionLimit: 10_000_000)
        if stop != .exited(code: 0) { mismatches.append("to the end: stopped with \(stop)") }
        if whole.hart.register(10) != 4 * 2500 { mismatches.append("a0 = \(whole.hart.register(10)), not \(4 * 2500)") }
        // The addi after `bnez a1` never runs.
        if whole.hart.register(13) != 0 { mismatches.append("a3 = \(whole.hart.register(13)), not 0") }
        return mismatches
    }

    /// What the checking thread hands back.
    final class Result: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Swift.Result<[String], any Error> = .success([])
        func set(_ value: Swift.Result<[String], any Error>) { lock.withLock { self.value = value } }
        func get() throws -> [String] { try lock.withLock { value }.get() }
    }
}
