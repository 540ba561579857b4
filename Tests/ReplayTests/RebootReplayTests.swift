import Foundation
import HostIO
import Machine
import Replay
import Testing

/// A guest's reset request is a logged input: the live runner logs `reboot` at the count where
/// the guest asked and reboots; a follower reboots exactly there, and a log whose reboot is
/// missing, misplaced or not where the guest asked is a typed divergence. On the bare-metal
/// key-value guest (`R` resets the machine through the SiFive test device) under a virtual clock.
@Suite struct RebootReplayTests {
    typealias ListJournal = LiveRunnerTests.ListJournal

    /// The count of every reboot input in the journal.
    static func reboots(_ journal: ListJournal) -> [UInt64] {
        journal.records.compactMap { if case .input(let e) = $0, e.input == .reboot { e.instructionCount } else { nil } }
    }

    /// Records a session: a write, a reset, a read after the reboot.
    static func record(settings: LiveRunner.Settings = LiveRunner.Settings()) throws -> (ListJournal, LiveRunner, [LiveRunner.Step]) {
        let journal = ListJournal(), outputs = CollectingSink()
        var settings = settings
        settings.checkpointInterval = 300_000
        settings.slice = 50_000
        var now = 0.0
        let runner = LiveRunner(machine: try LiveRunnerTests.machine(), journal: journal, outputs: outputs, settings: settings, clock: { now })
        var steps: [LiveRunner.Step] = []
        func runFor(_ instructions: UInt64) throws {
            let end = runner.machine.instructionCount + instructions
            while runner.machine.instructionCount < end {
                let step = try runner.step()
                steps.append(step)
                switch step {
                case .idle(let deadline, _): now = deadline + 0.001   // a little past it, as a host wakes
                case .stopped: return
                case .ran, .rebooted, .flushed: now += 0.0001
                }
            }
        }
        try runFor(1_000_000)
        try runner.deliver(.consoleBytes(Array("S a 1\nR\n".utf8)))
        try runFor(1_000_000)
        if case .stopped? = steps.last { return (journal, runner, steps) }
        try runner.deliver(.consoleBytes(Array("G a\n".utf8)))
        try runFor(1_000_000)
        let text = String(decoding: outputs.bytes, as: UTF8.self)
        #expect(text.contains("OK a 1"))
        #expect(text.contains("N a"), "the rebooted guest forgot its table: \(text)")
        return (journal, runner, steps)
    }

    /// Follows `records` on a fresh machine; the divergence, if any.
    static func follow(_ records: [JournalRecord]) throws -> (Follower, Divergence?) {
        let follower = Follower(machine: try LiveRunnerTests.machine())
        do {
            for record in records { try follower.take(record) }
        } catch {
            return (follower, error)
        }
        return (follower, nil)
    }

    @Test func aRebootIsLoggedAtTheRequestAndFollowedExactly() throws {
        let (journal, runner, steps) = try Self.record()
        let reboots = Self.reboots(journal)
        #expect(reboots.count == 1)
        #expect(steps.filter { $0 == .rebooted }.count == 1)
        // Logged right after the progress mark of the slice in which the guest asked.
        let index = try #require(journal.records.firstIndex { if case .input(let e) = $0 { e.input == .reboot } else { false } })
        #expect(journal.records[index - 1] == .progress(instructionCount: reboots[0]))
        let (follower, divergence) = try Self.follow(journal.records)
        #expect(divergence == nil)
        #expect(follower.checkpointsMatched > 2)
        #expect(follower.machine.instructionCount == runner.machine.instructionCount)
        #expect(follower.machine.stateHash() == runner.machine.stateHash())
        #expect(follower.outputDigest == runner.outputDigest)
    }

    @Test func aMissingRebootIsADivergenceAtTheRequest() throws {
        let (journal, _, _) = try Self.record()
        let at = Self.reboots(journal)[0]
        let records = journal.records.filter { if case .input(let e) = $0 { e.input != .reboot } else { true } }
        let (follower, divergence) = try Self.follow(records)
        guard case .rebootMissing(let count, let next)? = divergence else {
            Issue.record("expected rebootMissing, got \(String(describing: divergence))")
            return
        }
        #expect(count == at && next > at)
        #expect(follower.machine.instructionCount == at, "the follower never runs past the reset request")
        #expect(divergence!.description.contains("asked for a reset at instruction \(at)"))
    }

    @Test func aMisplacedRebootIsADivergence() throws {
        let (journal, _, _) = try Self.record()
        let at = Self.reboots(journal)[0]
        let index = journal.records.firstIndex { if case .input(let e) = $0 { e.input == .reboot } else { false } }!
        // Earlier than the request: the guest had not asked yet.
        var early = journal.records
        early.remove(at: index)
        let place = early.firstIndex { $0.instructionCount > at - 1_000 }!
        early.insert(.input(Event(instructionCount: at - 1_000, input: .reboot)), at: place)
        let (_, first) = try Self.follow(early)
        #expect(first == .unexpectedReboot(instructionCount: at - 1_000))
        // Another input between the request and the reboot.
        var interleaved = journal.records
        interleaved.insert(.input(Event(instructionCount: at, input: .consoleBytes([0x41]))), at: index)
        let (_, second) = try Self.follow(interleaved)
        #expect(second == .rebootMissing(instructionCount: at, next: at))
    }

    @Test func withoutRebootsOnResetTheRunnerStops() throws {
        var settings = LiveRunner.Settings()
        settings.rebootsOnReset = false
        let (journal, runner, steps) = try Self.record(settings: settings)
        #expect(Self.reboots(journal).isEmpty)
        #expect(steps.last == .stopped(.resetRequested))
        #expect(runner.machine.isResetRequested)
        // A follower stops at the same count and says why.
        let (follower, divergence) = try Self.follow(journal.records)
        #expect(divergence == nil)
        #expect(follower.machine.isResetRequested)
        #expect(try follower.run(to: runner.machine.instructionCount) == .resetRequested)
    }

    /// A backup that goes live holding a machine stopped at a reset request (its primary died
    /// before logging the reboot): the new primary's runner logs the reboot before anything else.
    @Test func aMachineHandedOverAtAResetRequestRebootsBeforeItsFirstInput() throws {
        var settings = LiveRunner.Settings()
        settings.rebootsOnReset = false
        let (_, stopped, _) = try Self.record(settings: settings)
        let machine = stopped.machine
        let count = machine.instructionCount
        let journal = ListJournal()
        let runner = LiveRunner(machine: machine, journal: journal, outputs: CollectingSink(), clock: { 0 })
        try runner.deliver(.networkAnnounce)
        #expect(journal.inputs == [.reboot, .networkAnnounce])
        #expect(Self.reboots(journal) == [count])
        #expect(!machine.isResetRequested)
    }
}
