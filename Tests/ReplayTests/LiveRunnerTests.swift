import Foundation
import HostIO
import Machine
import Replay
import Testing

/// The live runner's rules, on the bare-metal key-value guest (it arms its timer 5 ms ahead and
/// waits in WFI) under a virtual clock: how far guest time moves while the guest idles, that the
/// move is logged before the input that woke it, and that every input is logged before the
/// machine sees it.
@Suite struct LiveRunnerTests {
    final class ListJournal: Journal {
        var records: [JournalRecord] = []
        var position: UInt64 { UInt64(records.count) }
        func append(_ record: JournalRecord) { records.append(record) }
        var inputs: [MachineInput] { records.compactMap { if case .input(let e) = $0 { return e.input } else { return nil } } }
    }

    final class Outputs: OutputSink {
        var tagged: [(MachineOutput, UInt64)] = []
        func emit(_ output: MachineOutput, after position: UInt64) { tagged.append((output, position)) }
    }

    static func machine(_ guest: String = "kv") throws -> Machine {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 2 << 20))
        try machine.load(elfAt: root.appendingPathComponent("guests/out/\(guest).elf").path)
        return machine
    }

    /// A bare-metal program run deterministically (idle time jumps to the timer) is followed
    /// exactly: the jumps are logged inputs, not something the follower must guess.
    @Test func aDeterministicBareMetalRunIsFollowedExactly() throws {
        let journal = ListJournal(), outputs = Outputs()
        var settings = LiveRunner.Settings()
        settings.idlesInRealTime = false
        settings.checkpointInterval = 500
        let live = try Self.machine("timer")
        let runner = LiveRunner(machine: live, journal: journal, outputs: outputs, settings: settings, clock: { 0 })
        var stop: Machine.StopReason?
        while stop == nil { if case .stopped(let reason) = try runner.step() { stop = reason } }
        #expect(stop == .exited(code: 0))
        #expect(journal.inputs.contains { if case .timeAdvance = $0 { true } else { false } })
        let follower = Follower(machine: try Self.machine("timer"))
        var end: Machine.StopReason?
        for record in journal.records { end = try follower.take(record) ?? end }
        #expect(follower.checkpointsMatched > 0)
        #expect(follower.outputDigest == runner.outputDigest)
        #expect(follower.machine.stateHash() == live.stateHash())
        #expect(end == .exited(code: 0))
    }

    /// Steps until the guest idles; returns the deadline.
    static func runUntilIdle(_ runner: LiveRunner) throws -> Double {
        for _ in 0..<1000 {
            if case .idle(let deadline, let armed) = try runner.step() {
                #expect(armed)
                return deadline
            }
        }
        Issue.record("the guest never idled")
        return 0
    }

    @Test func idleTimeFollowsTheClockButNeverPassesTheTimer() throws {
        var now = 100.0
        let journal = ListJournal(), outputs = Outputs()
        let runner = LiveRunner(machine: try Self.machine(), journal: journal, outputs: outputs, clock: { now })
        // Longer than the timer: time stops at the deadline (5 ms = 50,000 ticks at 10 MHz, less what already passed).
        let deadline = try Self.runUntilIdle(runner)
        #expect(deadline > now && deadline <= now + 0.005 + 1e-9)
        let ticks = runner.machine.hart.ticksUntilTimerInterrupt!
        now += 1
        _ = try runner.step()
        #expect(journal.inputs.last == .timeAdvance(ticks: ticks))
        // Shorter than the timer: exactly the time that passed.
        _ = try Self.runUntilIdle(runner)
        let count = journal.inputs.count
        now += 0.001
        try runner.deliver(.consoleBytes(Array("G k\n".utf8)))
        #expect(Array(journal.inputs[count...]) == [.timeAdvance(ticks: 10_000), .consoleBytes(Array("G k\n".utf8))])
    }

    /// A clock that stops exactly at each deadline (a virtual clock, or a host wait that ends on
    /// time) brings the guest to its timer every time, whatever the rounding of the difference of
    /// two large times: at 12,345 s, half of all waits came out one tick short, and a guest whose
    /// timer was then one tick away idled forever.
    @Test func aClockAtTheDeadlineReachesTheTimer() throws {
        var now = 12_345.6789
        let journal = ListJournal(), outputs = Outputs()
        let runner = LiveRunner(machine: try Self.machine(), journal: journal, outputs: outputs, clock: { now })
        for round in 0..<8 {
            now = try Self.runUntilIdle(runner)
            let ticks = runner.machine.hart.ticksUntilTimerInterrupt!
            let count = journal.inputs.count
            try runner.deliver(.consoleBytes(Array("G k\n".utf8)))
            #expect(Array(journal.inputs[count...]) == [.timeAdvance(ticks: ticks), .consoleBytes(Array("G k\n".utf8))],
                    "round \(round): the timer was \(ticks) ticks away")
        }
    }

    @Test func outputsAreTaggedWithTheLastRecordBeforeThem() throws {
        var now = 0.0
        let journal = ListJournal(), outputs = Outputs()
        let runner = LiveRunner(machine: try Self.machine(), journal: journal, outputs: outputs, clock: { now })
        _ = try Self.runUntilIdle(runner)
        let before = outputs.tagged.count
        now += 0.001
        try runner.deliver(.consoleBytes(Array("S a b\n".utf8)))
        let inputPosition = journal.position
        for _ in 0..<20 { _ = try runner.step(); now += 0.01 }
        let answer = outputs.tagged[before...]
        #expect(String(decoding: answer.flatMap { if case .console(let b) = $0.0 { return b } else { return [] } }, as: UTF8.self) == "OK a b\n")
        #expect(answer.allSatisfy { $0.1 >= inputPosition }, "an answer was tagged before the input it depends on")
        #expect(runner.outputDigest.outputCount == UInt64(outputs.tagged.count))
    }
}
