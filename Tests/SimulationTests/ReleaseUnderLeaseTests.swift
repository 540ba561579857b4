import Foundation
import HostIO
import LockstepSupport
import Machine
import Replay
@_spi(Simulation) import Replication
@testable import Simulation
import Testing

/// A primary with a backup releases output only under its lease, read on the thread that writes,
/// right before each write: the real `PrimaryRole` running the bare-metal key-value guest, on a
/// virtual clock, with a console modelled on `TCPConsole` (its connections live on one event
/// loop: a write made on that loop goes out at once, a write made on any other thread is queued
/// for the loop, as SwiftNIO queues a `writeAndFlush`). A process stop (SIGSTOP) is the clock
/// jumping while the loop has not run yet.
@Suite struct ReleaseUnderLeaseTests {
    /// The console's event loop, run by hand: what is queued waits until ``run()``.
    final class ManualLoop: ReleaseThread {
        private var tasks: [() -> Void] = []
        private(set) var isCurrent = false
        var isIdle: Bool { tasks.isEmpty }

        func execute(_ body: @escaping () -> Void) { tasks.append(body) }
        func executeAndWait(_ body: @escaping () -> Void) {
            execute(body)
            run()
        }
        func run() {
            isCurrent = true
            defer { isCurrent = false }
            while !tasks.isEmpty { tasks.removeFirst()() }
        }
    }

    /// The console: writes on the loop go out at once, stamped with the clock; writes from any
    /// other thread wait for the loop.
    final class LoopConsole: ConsoleBackend {
        let loop: ManualLoop
        let clock: () -> Double
        private(set) var written: [(time: Double, bytes: [UInt8])] = []
        /// Runs after each write that went out (a stop in the middle of a release).
        var afterWrite: () -> Void = {}
        var input: [UInt8] = []

        init(loop: ManualLoop, clock: @escaping () -> Double) {
            self.loop = loop
            self.clock = clock
        }

        func write(_ bytes: [UInt8]) {
            guard loop.isCurrent else {
                loop.execute { [unowned self] in write(bytes) }
                return
            }
            written.append((clock(), bytes))
            afterWrite()
        }
        func poll(timeout: Double) -> ConsolePoll { .bytes(takeInput()) }
        var isClosed: Bool { false }
        func takeInput() -> [UInt8] {
            defer { input = [] }
            return input
        }
        var hasInput: Bool { !input.isEmpty }
        func wake() {}
    }

    /// A synchronised backup that acknowledges every entry at once and whose echoes hold the
    /// lease until `leaseExpiry`.
    final class Backup: PrimaryLogChannel {
        let clock: () -> Double
        var leaseExpiry: Double
        private var sequence: UInt64 = 0
        var onAcknowledged: (() -> Void)?

        init(clock: @escaping () -> Double, leaseExpiry: Double) {
            self.clock = clock
            self.leaseExpiry = leaseExpiry
        }

        var status: PrimaryLink.Status {
            var status = PrimaryLink.Status(lastSequence: sequence, acknowledged: sequence, backupExecuted: 1 << 62, hasBackup: true,
                                            backupLost: false, joinRequested: false, retainedEntries: 0, sentEntries: 0, sentBytes: 0)
            status.leaseValid = clock() < leaseExpiry
            status.leaseExpiry = leaseExpiry
            return status
        }
        func append(_ entry: LogEntry) -> UInt64 {
            sequence += 1
            return sequence
        }
        func sendSnapshot(_ snapshot: [UInt8], generation: UInt64) -> Bool { false }
        func forgetBackup() {}
    }

    /// The primary, its backup, its console and the loop, on a clock the test moves.
    final class Setup {
        var now = 0.0
        let loop = ManualLoop()
        var console: LoopConsole!
        var backup: Backup!
        var role: PrimaryRole!
        /// Every output the gate took, in order.
        var held: [UInt8] = []

        init(leaseExpiry: Double) throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let path = root.appendingPathComponent("guests/out/kv.elf").path
            guard let program = FileManager.default.contents(atPath: path) else { throw SimulationTests.GuestMissing(path: path) }
            let machine = try SimulatedGuest.bareMetal(program: [UInt8](program)).makeMachine(seed: 1)
            let clock = { [unowned self] in now }
            console = LoopConsole(loop: loop, clock: clock)
            backup = Backup(clock: clock, leaseExpiry: leaseExpiry)
            var configuration = NodeConfiguration(vm: "test", nodeID: "A", key: [1], listen: [], peers: [],
                                                  console: Endpoint(host: "127.0.0.1", port: 1))
            configuration.slice = 20_000
            role = PrimaryRole(configuration: configuration, machine: machine, generation: 1, link: backup, console: console,
                               log: NodeLog(nodeID: "A", sink: { _ in }), clock: clock, releaseThread: loop)
            role.onHold = { [unowned self] output, _ in
                if case .console(let bytes) = output { held += bytes }
            }
        }

        /// Steps the primary (the machine thread) until the guest has produced `bytes` more
        /// bytes of output; the loop does not run meanwhile.
        func stepUntilHeld(_ bytes: Int) {
            let target = held.count + bytes
            for _ in 0..<10_000 where held.count < target {
                if case .wait(let until) = role.step() { now = max(now, min(until, now + 0.001)) } else { now += 0.0001 }
            }
        }

        var writtenBytes: [UInt8] { console.written.flatMap(\.bytes) }
    }

    /// The machine thread decides a release under a valid lease; the process is stopped before
    /// the console's loop runs; it thaws after the lease ran out (the backup may have gone live
    /// meanwhile). Nothing may be written then. Handing the write to the loop (as
    /// `console.write` from the machine thread did) wrote it after the thaw.
    @Test func aReleaseAskedForBeforeAStopWritesNothingAfterIt() throws {
        let setup = try Setup(leaseExpiry: 0.5)
        setup.stepUntilHeld(1)   // "kv ready ..." is held; its release is asked of the loop
        #expect(!setup.held.isEmpty)
        #expect(setup.now < 0.5)
        #expect(!setup.loop.isIdle, "the machine thread left the release (or the write) to the loop")
        setup.now = 3.0   // stopped for seconds: the lease ran out at 0.5
        setup.loop.run()
        let late = setup.console.written.filter { $0.time >= setup.backup.leaseExpiry }
        #expect(late.isEmpty, "written after the lease ran out: \(late.map { String(decoding: $0.bytes, as: UTF8.self) })")
        // What was held is not lost: the next acknowledgement under a renewed lease releases it.
        setup.backup.leaseExpiry = setup.now + 0.2
        setup.loop.execute { setup.backup.onAcknowledged?() }
        setup.loop.run()
        #expect(setup.writtenBytes == setup.held)
    }

    /// A stop in the middle of a release (after one write, before the next): the lease is read
    /// again before each write, so what follows the stop stays in the gate, in order, until the
    /// lease is renewed.
    @Test func aStopBetweenTwoWritesHoldsTheRest() throws {
        let setup = try Setup(leaseExpiry: 0)   // no echo yet: nothing leaves
        setup.stepUntilHeld(1)
        let ready = setup.held.count
        setup.console.input = Array("S k1 v1\n".utf8)
        setup.stepUntilHeld(Array("OK k1 v1\n".utf8).count)
        setup.loop.run()
        #expect(setup.console.written.isEmpty)
        #expect(setup.held.count > ready)
        // The lease is renewed; the process stops right after the first write.
        setup.backup.leaseExpiry = setup.now + 0.2
        var stops = 0
        setup.console.afterWrite = {
            if stops == 0 { setup.now += 3 }
            stops += 1
        }
        setup.loop.execute { setup.backup.onAcknowledged?() }
        setup.loop.run()
        #expect(setup.console.written.count == 1, "one write, then the stop")
        #expect(setup.writtenBytes.count <= ready && setup.writtenBytes == Array(setup.held[..<setup.writtenBytes.count]))
        setup.backup.leaseExpiry = setup.now + 0.2
        setup.loop.execute { setup.backup.onAcknowledged?() }
        setup.loop.run()
        #expect(setup.writtenBytes == setup.held)
    }
}
