import Machine
import Replay
import Testing

/// Frames from the host wait in the live runner, unlogged, until the guest has a receive buffer
/// for them (as in QEMU's net queue), instead of being offered to a full ring and lost.
@Suite(.serialized) struct NetworkQueueTests {
    typealias ListJournal = LiveRunnerTests.ListJournal

    /// An experimental-ethertype broadcast frame (nobody answers it), numbered.
    static func frame(_ number: Int) -> [UInt8] {
        [UInt8](repeating: 0xFF, count: 6) + [0x02, 0, 0, 0, 0, 1] + [0x88, 0xB5]
            + [UInt8(truncatingIfNeeded: number >> 8), UInt8(truncatingIfNeeded: number)] + [UInt8](repeating: 0, count: 44)
    }

    static func loggedFrames(_ journal: ListJournal) -> Int {
        journal.inputs.filter { if case .networkFrame = $0 { return true } else { return false } }.count
    }

    /// A guest without a running network driver has no buffer: nothing is logged, and the queue
    /// keeps the newest frames up to its bound.
    @Test func framesWaitUnloggedWithoutBuffersAndTheQueueIsBounded() throws {
        let journal = ListJournal()
        let runner = LiveRunner(machine: try LiveRunnerTests.machine(), journal: journal, outputs: LiveRunnerTests.Outputs(), clock: { 0 })
        for number in 0..<(LiveRunner.maximumWaitingFrames + 6) { try runner.deliver(.networkFrame(Self.frame(number))) }
        #expect(Self.loggedFrames(journal) == 0)
        #expect(runner.pendingFrames == LiveRunner.maximumWaitingFrames)
        #expect(runner.droppedFrames == 6)
    }

    /// Linux posts 256 receive buffers; 600 frames at once all reach it, none dropped, each logged
    /// only when there was a buffer for it.
    @Test func aBurstLargerThanTheRingReachesLinuxWhole() throws {
        let machine = try RecordReplayTests.bootedMachine(seed: 7)
        let journal = ListJournal()
        var time = 0.0
        let runner = LiveRunner(machine: machine, journal: journal, outputs: LiveRunnerTests.Outputs(), clock: { time })
        var console: [UInt8] = []
        machine.onOutput = { if case .console(let bytes) = $0 { console += bytes } }
        // onOutput now reports here; the runner's own sink is not needed for this test.
        while !String(decoding: console, as: UTF8.self).contains("init ready") && machine.instructionCount < 600_000_000 {
            if case .idle(let deadline, _) = try runner.step() { time = deadline }
        }
        try #require(String(decoding: console, as: UTF8.self).contains("init ready"))
        for number in 0..<600 { try runner.deliver(.networkFrame(Self.frame(number))) }
        #expect(Self.loggedFrames(journal) <= 256)
        #expect(runner.pendingFrames > 0)
        for _ in 0..<2000 where runner.pendingFrames > 0 {
            if case .idle(let deadline, _) = try runner.step() { time = deadline }
        }
        #expect(runner.pendingFrames == 0)
        #expect(Self.loggedFrames(journal) == 600)
        #expect(machine.network.droppedFrames == 0)
        #expect(runner.droppedFrames == 0)
    }
}
