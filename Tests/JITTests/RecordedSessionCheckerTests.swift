import Conformance
import Foundation
import JIT
import Machine
import Replay
import Testing

/// The lockstep checker on a recorded session: a Linux session recorded with console lines typed
/// at varying counts and idle time between slices (the live runner under a virtual clock),
/// replayed on the interpreter and on the JIT side by side through two followers, the whole state
/// compared right before and right after every input, at every checkpoint and every 3 M
/// instructions between (what a backup on either engine does with a primary's log).
@Suite struct RecordedSessionCheckerTests {
    static let lines = ["echo one\n", "ls /proc\n", "cat /proc/uptime\n", "i=0; while [ $i -lt 40 ]; do i=$((i+1)); done; echo $i\n",
                        "dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1\n", "uname -r\n"]

    @Test func aRecordedSessionRunsAlikeOnBothEngines() throws {
        let images = LockstepCheckerTests.linuxImages
        guard let kernel = FileManager.default.contents(atPath: images.kernel),
              let initrd = FileManager.default.contents(atPath: images.initrd) else {
            Issue.record("\(images.kernel) or its initrd is missing: run guests/linux/build.sh first (scripts/test.sh does)")
            return
        }
        let boot = {
            let machine = try Machine(configuration: MachineConfiguration(memorySize: 128 << 20, entropySeed: 3))
            try machine.bootLinux(kernel: try LinuxImage(bytes: [UInt8](kernel)), initrd: [UInt8](initrd), commandLine: "console=ttyS0")
            machine.skipsIdleTime = false
            return machine
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-checked-session-\(getpid()).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (log, recorded) = try Self.record(try boot(), to: path)
        let inputs = log.records.filter { if case .event = $0 { true } else { false } }.count
        #expect(inputs >= 10, "the session has too few inputs to check")
        #expect(String(decoding: recorded, as: UTF8.self).contains("init ready"))

        var checker = LockstepChecker(makeMachine: boot)
        checker.translationThreshold = 0
        let pair = try checker.makePair()
        let followers = [Follower(machine: pair.interpreter), Follower(machine: pair.jit)]
        var comparisons = 0
        /// Compares the two machines; records the first difference and says whether there was one.
        func differ(_ stops: [Machine.StopReason?], _ place: String) -> Bool {
            comparisons += 1
            let reasons = stops.map { $0 ?? .instructionLimit }
            guard let difference = LockstepChecker.difference(pair, reasons[0], reasons[1]) else { return false }
            Issue.record("the engines differ \(place), at instruction \(pair.interpreter.instructionCount): \(difference)")
            return true
        }
        for record in log.records {
            let target: UInt64
            switch record {
            case .event(let event): target = event.instructionCount
            case .checkpoint(let checkpoint): target = checkpoint.instructionCount
            case .end(let end): target = end.instructionCount
            }
            while pair.interpreter.instructionCount < target {
                let next = min(target, pair.interpreter.instructionCount + 3_000_000)
                let stops = try followers.map { try $0.run(to: next) }
                if differ(stops, "between inputs") { return }
            }
            switch record {
            case .event(let event):
                for follower in followers { try follower.take(.input(event)) }
                if differ([nil, nil], "after the input \(event.input)") { return }
            case .checkpoint(let checkpoint):
                for follower in followers { try follower.take(.checkpoint(checkpoint)) }
            case .end(let end):
                #expect(pair.jit.stateHash() == end.stateHash, "the JIT's final state is not the recorded one")
            }
        }
        #expect(followers.allSatisfy { $0.inputsApplied == inputs })
        #expect(followers[0].outputDigest == followers[1].outputDigest)
        print("checker: recorded session of \(log.end?.instructionCount ?? 0) instructions with \(inputs) inputs: \(comparisons) comparisons, no difference")
    }

    /// Records the session on the JIT (the engine a primary runs): slices of 1.3 M instructions,
    /// virtual idle time of varying length, a console line typed after every third step late in
    /// the boot and whenever the guest waits with no timer armed (only input can wake it).
    static func record(_ machine: Machine, to path: String) throws -> (log: EventLog, output: [UInt8]) {
        machine.use(.jit)
        let session = SessionDescription(configuration: machine.configuration, boot: .elf(path: "checked", hash: 0), disks: [],
                                         initialStateHash: machine.stateHash())
        let recorder = Recorder(writer: try EventLogWriter(path: path, session: session))
        let console = ConsoleCollector()
        var settings = LiveRunner.Settings()
        settings.checkpointInterval = 20_000_000
        settings.slice = 1_300_000
        var now = 0.0
        let runner = LiveRunner(machine: machine, journal: recorder, outputs: console, settings: settings, clock: { now })
        var step: UInt64 = 0
        let end: UInt64 = 220_000_000
        while machine.instructionCount < end {
            step += 1
            if step > 200_000 {
                Issue.record("the recording is stuck at instruction \(machine.instructionCount) after \(step) steps")
                break
            }
            var waitsForInput = false
            switch try runner.step(limit: end) {
            case .idle(let deadline, let timerArmed):
                now = min(deadline, now + Double(step % 97 + 1) / 20_000)
                waitsForInput = !timerArmed
            case .ran, .rebooted, .flushed, .stopped: now += 0.001
            }
            if waitsForInput || (machine.instructionCount > 100_000_000 && step % 3 == 0) {
                try runner.deliver(.consoleBytes(Array(lines[Int(step) % lines.count].utf8)))
            }
        }
        try recorder.finish(.stoppedByHost, machine: machine, outputs: runner.outputDigest)
        return (try EventLog(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))), console.bytes)
    }
}

/// The console output of a recorded run.
private final class ConsoleCollector: OutputSink {
    var bytes: [UInt8] = []
    func emit(_ output: MachineOutput, after position: UInt64) {
        if case .console(let data) = output { bytes += data }
    }
}
