import JIT
import Machine

/// Runs one guest on two machines side by side, one on the interpreter and one on the JIT, in
/// steps of a given number of instructions, and compares ``Machine/stateHash()`` (with the stop
/// reason and the count) after each step. On a difference it runs both again from the start to
/// the last equal count and narrows the step down to one instruction, so it names the first
/// instruction count at which the two differ and the pc there.
struct LockstepChecker {
    /// Builds the guest's machine, ready to run (the same image every call).
    let makeMachine: () throws -> Machine
    /// How often the JIT finds no block at a pc before it translates one (0: at once).
    var translationThreshold = JITAccelerator.defaultTranslationThreshold

    /// The result of a comparison.
    struct Report: CustomStringConvertible {
        /// How many points were compared (after each step).
        var comparisons = 0
        /// The instruction count both machines reached (where they stopped or the end).
        var instructions: UInt64 = 0
        /// Why the guest stopped on both (nil if it ran to the end of the check).
        var stop: Machine.StopReason?
        /// The first instruction count whose state differs, and the pc there on each engine.
        var firstDifference: (count: UInt64, interpreterPC: UInt64, jitPC: UInt64)?

        var description: String {
            if let d = firstDifference {
                return "first difference after \(d.count) instructions: interpreter pc \(hex(d.interpreterPC)), jit pc \(hex(d.jitPC))"
            }
            return "\(comparisons) comparisons, \(instructions) instructions, no difference (stop: \(stop.map { "\($0)" } ?? "none"))"
        }
    }

    struct Pair {
        let interpreter: Machine
        let jit: Machine
    }

    func makePair() throws -> Pair {
        let interpreter = try makeMachine(), jit = try makeMachine()
        jit.hart.accelerator = try JITAccelerator(translationThreshold: translationThreshold)
        return Pair(interpreter: interpreter, jit: jit)
    }

    struct CheckerError: Error, CustomStringConvertible { let description: String }

    /// Compares the two engines every `step` instructions up to `total` (or until the guest stops).
    func check(step: UInt64, total: UInt64) throws -> Report {
        var report = Report()
        let pair = try makePair()
        var equalAt: UInt64 = 0
        while true {
            let target = min(pair.interpreter.instructionCount + step, total)
            let a = pair.interpreter.run(instructionLimit: target)
            let b = pair.jit.run(instructionLimit: target)
            report.comparisons += 1
            if !Self.same(pair, a, b) {
                report.firstDifference = try narrow(from: equalAt, step: step)
                return report
            }
            equalAt = pair.interpreter.instructionCount
            report.instructions = equalAt
            if a != .instructionLimit { report.stop = a; return report }
            if equalAt >= total { return report }
        }
    }

    static func same(_ pair: Pair, _ a: Machine.StopReason, _ b: Machine.StopReason) -> Bool {
        a == b && pair.interpreter.instructionCount == pair.jit.instructionCount
            && pair.interpreter.hart.pc == pair.jit.hart.pc && pair.interpreter.stateHash() == pair.jit.stateHash()
    }

    /// Reruns both from the start to `start` (where they were equal), then steps ever smaller
    /// until a single instruction makes them differ.
    private func narrow(from start: UInt64, step: UInt64) throws -> (count: UInt64, interpreterPC: UInt64, jitPC: UInt64) {
        var pair = try makePair()
        _ = pair.interpreter.run(instructionLimit: start)
        _ = pair.jit.run(instructionLimit: start)
        var equalAt = start
        var size = max(step / 8, 1)
        while true {
            let target = equalAt + size
            let a = pair.interpreter.run(instructionLimit: target)
            let b = pair.jit.run(instructionLimit: target)
            if Self.same(pair, a, b) {
                equalAt = pair.interpreter.instructionCount
                if a != .instructionLimit { return (equalAt, pair.interpreter.hart.pc, pair.jit.hart.pc) }
                continue
            }
            if size == 1 { return (target, pair.interpreter.hart.pc, pair.jit.hart.pc) }
            size = max(size / 8, 1)
            pair = try makePair()
            _ = pair.interpreter.run(instructionLimit: equalAt)
            _ = pair.jit.run(instructionLimit: equalAt)
        }
    }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
