import Foundation
import Machine
import Replay
import Testing

/// Record a Linux guest with inputs injected at random instruction counts (console bytes, idle
/// time), replay the log on a fresh machine, and compare: same console output byte for byte,
/// same state hashes. A log whose input was altered must be reported as a divergence.
@Suite(.serialized) struct RecordReplayTests {
    static var imageDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["LOCKSTEP_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? "/root") + "/.cache/lockstep"
        return cache + "/linux/current"
    }

    struct ImagesMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is missing: run guests/linux/build.sh first (scripts/test.sh does)" }
    }

    /// A machine booting the default guest, as `lockstep run` does (real-time idling: the owner
    /// decides how far time moves).
    static func bootedMachine(seed: UInt64, engine: ExecutionEngine = Machine.initialEngine) throws -> Machine {
        let kernelPath = imageDirectory + "/Image", initrdPath = imageDirectory + "/initramfs.cpio.gz"
        guard let kernel = FileManager.default.contents(atPath: kernelPath) else { throw ImagesMissing(path: kernelPath) }
        guard let initrd = FileManager.default.contents(atPath: initrdPath) else { throw ImagesMissing(path: initrdPath) }
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 128 << 20, entropySeed: seed))
        try machine.bootLinux(kernel: try LinuxImage(bytes: [UInt8](kernel)), initrd: [UInt8](initrd), commandLine: "console=ttyS0")
        machine.skipsIdleTime = false
        if let notice = machine.use(engine) { throw EngineUnavailable(description: notice) }
        return machine
    }

    struct EngineUnavailable: Error, CustomStringConvertible { let description: String }

    static let lines = ["echo hello\n", "ls /\n", "cat /proc/uptime\n", "dd if=/dev/hwrng bs=8 count=1 2>/dev/null | od -An -tx1\n",
                        "i=0; while [ $i -lt 30 ]; do i=$((i+1)); done; echo $i\n", "\u{3}", "uname -a\n"]

    /// Runs a recorded session with the live runner under a virtual clock: random idle times,
    /// random inputs between slices; returns the log and the console output.
    static func record(seed: UInt64, to path: String, engine: ExecutionEngine = Machine.initialEngine) throws -> (log: EventLog, output: [UInt8]) {
        var random = SplitMix(seed: seed)
        let machine = try bootedMachine(seed: seed, engine: engine)
        let session = SessionDescription(configuration: machine.configuration, boot: .elf(path: "test", hash: 0), disks: [],
                                         initialStateHash: machine.stateHash())
        let recorder = Recorder(writer: try EventLogWriter(path: path, session: session))
        let console = CollectingSink()
        var settings = LiveRunner.Settings()
        settings.checkpointInterval = 25_000_000
        settings.slice = 1 + random.next() % 3_000_000
        var now = 0.0
        let runner = LiveRunner(machine: machine, journal: recorder, outputs: console, settings: settings, clock: { now })
        let end: UInt64 = 160_000_000
        while machine.instructionCount < end {
            switch try runner.step(limit: end) {
            case .idle(let deadline, _):
                now = min(deadline, now + Double(1 + random.next() % 200_000) / 10_000_000)
            case .ran, .rebooted, .flushed, .stopped:
                now += 0.001
            }
            if random.next() % 8 == 0 {
                let line = lines[Int(random.next() % UInt64(lines.count))]
                try runner.deliver(.consoleBytes(Array(line.utf8)))
            }
        }
        try recorder.finish(.stoppedByHost, machine: machine, outputs: runner.outputDigest)
        return (try EventLog(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))), console.bytes)
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-\(name)-\(getpid()).log").path
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomInputsReplayExactly(seed: UInt64) throws {
        let path = Self.temporaryPath("replay-\(seed)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (log, recorded) = try Self.record(seed: seed, to: path)
        let inputs = log.records.filter { if case .event = $0 { return true } else { return false } }
        let hashes = log.records.filter { if case .checkpoint = $0 { return true } else { return false } }
        #expect(inputs.count > 5)
        #expect(hashes.count >= 4)
        #expect(String(decoding: recorded, as: UTF8.self).contains("init ready"))

        let result = try Replayer.replay(log, on: try Self.bootedMachine(seed: seed))
        #expect(result.output == recorded)
        #expect(result.instructionCount == log.end?.instructionCount)
        #expect(result.hashesMatched == hashes.count + 1)
    }

    /// A session recorded on one engine replays on the other: same output, every checkpoint's
    /// state hash equal (the engine is not machine state).
    @Test(arguments: [(ExecutionEngine.jit, ExecutionEngine.interpreter), (.interpreter, .jit)])
    func aRecordingReplaysOnTheOtherEngine(recordedOn: ExecutionEngine, replayedOn: ExecutionEngine) throws {
        let path = Self.temporaryPath("engines-\(recordedOn.rawValue)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (log, recorded) = try Self.record(seed: 11, to: path, engine: recordedOn)
        let hashes = log.records.filter { if case .checkpoint = $0 { return true } else { return false } }
        #expect(hashes.count >= 4)
        #expect(String(decoding: recorded, as: UTF8.self).contains("init ready"))
        let result = try Replayer.replay(log, on: try Self.bootedMachine(seed: 11, engine: replayedOn))
        #expect(result.output == recorded)
        #expect(result.instructionCount == log.end?.instructionCount)
        #expect(result.hashesMatched == hashes.count + 1)
    }

    @Test func anAlteredInputIsReportedAsADivergence() throws {
        let path = Self.temporaryPath("tampered")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var (log, _) = try Self.record(seed: 5, to: path)
        // Change a console input typed well after the shell is up and well before the end, so the
        // guest certainly reads and echoes it within the recording. (Input typed during early boot
        // is discarded when the serial driver resets the UART, so changing it rightly changes
        // nothing.)
        guard let end = log.end?.instructionCount,
              let index = log.records.firstIndex(where: {
                  if case .event(let e) = $0, case .consoleBytes = e.input {
                      return e.instructionCount > 90_000_000 && e.instructionCount < end - 30_000_000
                  }
                  return false
              }) else {
            Issue.record("the recording has no console input in the middle")
            return
        }
        guard case .event(var event) = log.records[index] else { return }
        event.input = .consoleBytes(Array("echo jello\n".utf8))
        log.records[index] = .event(event)
        let reread = try EventLog(bytes: log.encoded())   // still a well-formed log
        let machine = try Self.bootedMachine(seed: 5)
        do {
            _ = try Replayer.replay(reread, on: machine)
            Issue.record("an altered input at instruction \(event.instructionCount) replayed without a divergence")
        } catch {
            switch error {
            case .diverged(.stateDiffers(let difference, let previous)):
                #expect(difference.instructionCount > event.instructionCount)
                #expect(previous <= event.instructionCount + 25_000_000)
                #expect(!difference.parts.isEmpty || !difference.ramRanges.isEmpty)
            case .diverged(.outputsDiffer(let count, _, _)):
                #expect(count > event.instructionCount)
            case .diverged, .outputDiffers, .finalStateDiffers:
                break
            default:
                Issue.record("unexpected \(error)")
            }
        }
    }

    /// A replay whose RAM is changed in one page before it starts (a planted divergence): the
    /// first checkpoint reports the region holding that page, and nothing else.
    @Test func aPlantedDivergenceNamesTheRAMPage() throws {
        let path = Self.temporaryPath("planted")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (log, _) = try Self.record(seed: 7, to: path)
        let machine = try Self.bootedMachine(seed: 7)
        // A page near the top of RAM that Linux does not touch during this short boot.
        let address: UInt64 = 0x8000_0000 + (120 << 20) + 0x1230
        machine.memory.write([0x5A], at: address)
        let follower = Follower(machine: machine)
        do {
            for record in log.records {
                switch record {
                case .event(let event): try follower.take(.input(event))
                case .checkpoint(let checkpoint): try follower.take(.checkpoint(checkpoint))
                case .end: break
                }
            }
            Issue.record("a changed RAM page was not reported")
        } catch {
            guard case .stateDiffers(let difference, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(difference.parts.isEmpty, "only RAM differs, but \(difference.parts) reported")
            #expect(difference.ramRanges.count == 1)
            #expect(difference.ramRanges.first?.contains(address) == true)
            #expect(error.description.contains("RAM"))
        }
    }

    @Test func aDifferentSeedIsCaughtAtTheStart() throws {
        let path = Self.temporaryPath("seed")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let machine = try Self.bootedMachine(seed: 1)
        let session = SessionDescription(configuration: machine.configuration, boot: .elf(path: "t", hash: 0), disks: [],
                                         initialStateHash: machine.stateHash())
        let log = EventLog(session: session, records: [
            .end(SessionEnd(instructionCount: 1_000, stateHash: 0, outputByteCount: 0, outputHash: 0, stop: .stoppedByHost)),
        ])
        // Same images, other RAM size: the initial state differs (the device tree lists the memory).
        let other = try Machine(configuration: MachineConfiguration(memorySize: 64 << 20, entropySeed: 1))
        let kernel = [UInt8](FileManager.default.contents(atPath: Self.imageDirectory + "/Image")!)
        try other.bootLinux(kernel: try LinuxImage(bytes: kernel), initrd: nil, commandLine: "console=ttyS0")
        #expect(throws: ReplayError.self) { try Replayer.replay(log, on: other) }
    }
}

/// Collects console output of a live run.
final class CollectingSink: OutputSink {
    var bytes: [UInt8] = []
    func emit(_ output: MachineOutput, after position: UInt64) {
        if case .console(let data) = output { bytes += data }
    }
}
