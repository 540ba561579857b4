import Foundation
import JIT
import Machine
import RISCV

/// Runs one guest on two machines side by side, one on the interpreter and one on the JIT, in
/// steps of a given number of instructions, and compares their whole state after each step: the
/// stop reason, the count, the hart's architectural state, the devices' state and every byte of
/// RAM (what ``Machine/stateHash()`` covers, compared directly: hashing 64 MiB twice per step
/// made the checker slower than the runs it checks). On a difference it searches, from fresh
/// machines, for the shortest run from the last equal count that makes them differ, so it names
/// the first instruction count at which the two differ, the instruction that did it and what differs.
public struct LockstepChecker {
    /// Builds the guest's machine, ready to run (the same image every call).
    public let makeMachine: () throws -> Machine
    /// How often the JIT finds no block at a pc before it translates one (0: at once).
    public var translationThreshold = JITAccelerator.defaultTranslationThreshold

    /// A checker of the guest `makeMachine` builds.
    public init(makeMachine: @escaping () throws -> Machine) { self.makeMachine = makeMachine }

    /// Where the two engines first differ.
    public struct Difference: CustomStringConvertible, Sendable {
        /// The instruction count at which they differ (the interpreter's, after the step).
        public var count: UInt64
        /// The pc of the instruction whose execution made them differ (nil if not narrowed).
        public var instructionPC: UInt64?
        public var interpreterPC: UInt64
        public var jitPC: UInt64
        /// What differs (the first field, register, device byte or RAM word found).
        public var what: String
        /// Set when one run from the last equal count to the count of the difference does not
        /// differ: the engines differ only when runs stop at certain counts (still a bug: where
        /// a run stops must never change the state).
        public var dependsOnSteps = false

        public var description: String {
            "first difference after \(count) instructions"
                + (instructionPC.map { ", made by the instruction at \(hex($0))" } ?? "")
                + ": interpreter pc \(hex(interpreterPC)), jit pc \(hex(jitPC)): \(what)"
                + (dependsOnSteps ? " (seen only with the coarser steps: it depends on where runs stop)" : "")
        }
    }

    /// The result of a comparison.
    public struct Report: CustomStringConvertible, Sendable {
        /// How many points were compared (after each step).
        public var comparisons = 0
        /// The instruction count both machines reached (where they stopped or the end).
        public var instructions: UInt64 = 0
        /// Why the guest stopped on both (nil if it ran to the end of the check).
        public var stop: Machine.StopReason?
        public var firstDifference: Difference?

        public var description: String {
            if let d = firstDifference { return d.description }
            return "\(comparisons) comparisons, \(instructions) instructions, no difference (stop: \(stop.map { "\($0)" } ?? "none"))"
        }
    }

    /// The two machines, one per engine.
    public struct Pair {
        public let interpreter: Machine
        public let jit: Machine

        /// Runs both to `limit`; nil if they then agree, else what differs.
        public func run(to limit: UInt64) -> (stop: Machine.StopReason, difference: String?) {
            let a = interpreter.run(instructionLimit: limit)
            let b = jit.run(instructionLimit: limit)
            return (a, LockstepChecker.difference(self, a, b))
        }
    }

    /// Two fresh machines of the guest, one on the interpreter and one on the JIT.
    public func makePair() throws -> Pair {
        let interpreter = try makeMachine(), jit = try makeMachine()
        interpreter.use(.interpreter)   // (a test run may start every machine on the JIT)
        jit.hart.accelerator = try JITAccelerator(translationThreshold: translationThreshold)
        return Pair(interpreter: interpreter, jit: jit)
    }

    /// Compares the two engines every `step` instructions up to `total` (or until the guest stops).
    public func check(step: UInt64, total: UInt64) throws -> Report {
        var report = Report()
        let pair = try makePair()
        var equalAt: UInt64 = 0
        while true {
            let target = min(pair.interpreter.instructionCount + step, total)
            let (stop, difference) = pair.run(to: target)
            report.comparisons += 1
            if let difference {
                let seenAt = pair.interpreter.instructionCount
                report.firstDifference = try narrow(from: equalAt, until: seenAt)
                    ?? Difference(count: seenAt, instructionPC: nil, interpreterPC: pair.interpreter.hart.pc,
                                  jitPC: pair.jit.hart.pc, what: difference, dependsOnSteps: true)
                return report
            }
            equalAt = pair.interpreter.instructionCount
            report.instructions = equalAt
            if stop != .instructionLimit { report.stop = stop; return report }
            if equalAt >= total { return report }
        }
    }

    /// What differs between the two machines after stopping with `a` and `b`, or nil.
    public static func difference(_ pair: Pair, _ a: Machine.StopReason, _ b: Machine.StopReason) -> String? {
        let i = pair.interpreter, j = pair.jit
        if a != b { return "stop reasons \(a) (interpreter) and \(b) (jit)" }
        if i.instructionCount != j.instructionCount { return "counts \(i.instructionCount) and \(j.instructionCount)" }
        let left = i.hart.exportState(), right = j.hart.exportState()
        if left != right {
            for (l, r) in zip(Mirror(reflecting: left).children, Mirror(reflecting: right).children) {
                if let ls = l.value as? [UInt64], let rs = r.value as? [UInt64], ls != rs {
                    let index = ls.indices.first { $0 >= rs.count || ls[$0] != rs[$0] } ?? ls.count
                    return "\(l.label ?? "?")[\(index)]: \(ls.indices.contains(index) ? hex(ls[index]) : "-") and \(rs.indices.contains(index) ? hex(rs[index]) : "-")"
                }
                if "\(l.value)" != "\(r.value)" { return "\(l.label ?? "?"): \(l.value) and \(r.value)" }
            }
            return "the hart's state"
        }
        let devicesLeft = i.machineStateBytes(), devicesRight = j.machineStateBytes()
        if devicesLeft != devicesRight {
            let offset = devicesLeft.indices.first { $0 >= devicesRight.count || devicesLeft[$0] != devicesRight[$0] } ?? devicesLeft.count
            return "the machine state outside the hart and RAM, from byte \(offset) of \(devicesLeft.count)"
        }
        if i.memory.size != j.memory.size { return "RAM sizes \(i.memory.size) and \(j.memory.size)" }
        return i.memory.withRAMBytes { l in
            j.memory.withRAMBytes { r -> String? in
                guard memcmp(l.baseAddress!, r.baseAddress!, l.count) != 0 else { return nil }
                var offset = 0
                while offset + 8 <= l.count && l.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == r.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                    offset += 8
                }
                let address = i.memory.base + UInt64(offset)
                return "RAM at \(hex(address)): \(hex(l.loadUnaligned(fromByteOffset: offset, as: UInt64.self))) and \(hex(r.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))"
            }
        }
    }

    /// Finds the smallest count `k` in `start + 1 ... until` at which running both machines
    /// from their equal state at `start` to `k` in one run makes them differ (a binary search,
    /// each probe from fresh machines). One run, not ever smaller steps: with steps of one
    /// instruction the JIT runs no block at all (each is longer than the budget), so smaller
    /// steps hide what the blocks do. Nil if the one run to `until` does not differ.
    private func narrow(from start: UInt64, until: UInt64) throws -> Difference? {
        func probe(_ count: UInt64) throws -> (pair: Pair, stop: Machine.StopReason, difference: String?) {
            let pair = try makePair()
            _ = pair.run(to: start)
            let (stop, difference) = pair.run(to: count)
            return (pair, stop, difference)
        }
        guard try probe(until).difference != nil else { return nil }
        var equal = start, differs = until
        while differs - equal > 1 {
            let middle = equal + (differs - equal) / 2
            if try probe(middle).difference != nil { differs = middle } else { equal = middle }
        }
        // The pc of the instruction that makes them differ: where the interpreter is one before.
        let before = try probe(differs - 1).pair.interpreter.hart.pc
        let (pair, _, difference) = try probe(differs)
        return Difference(count: differs, instructionPC: before, interpreterPC: pair.interpreter.hart.pc,
                          jitPC: pair.jit.hart.pc, what: difference ?? "(the difference went away when probed again)")
    }
}

private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
