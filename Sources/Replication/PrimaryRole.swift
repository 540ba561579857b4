import Foundation
import Arbitration
import HostIO
import Machine
import Replay

/// The live node: runs the guest in slices, stamps every input with the instruction count and
/// logs it before the guest sees it, holds every output in the ``OutputGate`` until the backup has
/// acknowledged the entries before it, starts a backup that joins with a snapshot, and when its
/// backup is lost continues alone only if it wins the arbiter.
final class PrimaryRole {
    let configuration: NodeConfiguration
    let machine: Machine
    let link: PrimaryLink
    let console: TCPConsole
    let arbiter: any Arbiter
    let doorbell: Doorbell
    let log: NodeLog
    let releaseLog: ReleaseLog?
    private(set) var generation: UInt64
    private var gate = OutputGate()
    private let produced = OutputBuffer()
    /// For the periodic statistics line.
    private var statistics = (time: monotonicNow(), entries: UInt64(0), bytes: UInt64(0), instructions: UInt64(0))
    static let ticksPerSecond = 10_000_000.0
    /// The largest console input in one log entry (far below the frame limit).
    static let maximumInputChunk = 64 << 10

    init(configuration: NodeConfiguration, machine: Machine, generation: UInt64, link: PrimaryLink, console: TCPConsole,
         arbiter: any Arbiter, doorbell: Doorbell, log: NodeLog) {
        self.configuration = configuration
        self.machine = machine
        self.generation = generation
        self.link = link
        self.console = console
        self.arbiter = arbiter
        self.doorbell = doorbell
        self.log = log
        releaseLog = configuration.releaseLogPath.flatMap { ReleaseLog(path: $0) }
    }

    /// Runs until the guest stops or the node loses the arbiter.
    func run() -> NodeOutcome {
        machine.skipsIdleTime = false
        let produced = self.produced
        machine.consoleOutput = { produced.bytes.append($0) }
        while true {
            if let outcome = handleLinkEvents() { return outcome }
            reportStatisticsIfDue()
            // Pasted megabytes become several events: a log entry must fit in one frame.
            let input = console.takeInput()
            var start = 0
            while start < input.count {
                let end = min(start + Self.maximumInputChunk, input.count)
                deliver(.consoleBytes(Array(input[start..<end])))
                start = end
            }
            if mustThrottle() {
                let ticket = doorbell.ticket
                release()
                if !mustThrottle() { continue }
                doorbell.wait(after: ticket, seconds: 0.05)
                continue
            }
            let tag = link.status.lastSequence
            let reason = machine.run(instructionLimit: machine.instructionCount &+ configuration.slice)
            gate.hold(produced.take(), after: tag)
            link.append(.progress(instructionCount: machine.instructionCount))
            release()
            switch reason {
            case .instructionLimit:
                continue
            case .waitingForInterrupt, .idle:
                idle()
            case .exited(let code):
                finish()
                return .guestExited(code: code)
            case .resetRequested:
                finish()
                return .guestReset
            }
        }
    }

    /// Every `statisticsInterval` seconds with a backup: how much the log carried.
    private func reportStatisticsIfDue() {
        let now = monotonicNow()
        guard now - statistics.time >= configuration.statisticsInterval else { return }
        let status = link.status
        if status.hasBackup {
            let seconds = now - statistics.time
            let entries = status.sentEntries - statistics.entries, bytes = status.sentBytes - statistics.bytes
            let instructions = machine.instructionCount - statistics.instructions
            log("log: \(entries) entries, \(bytes) bytes in \(Int(seconds)) s (\(Int(Double(bytes) / seconds)) bytes/s per line); guest \(Int(Double(instructions) / seconds / 1e6)) MIPS; backup \(machine.instructionCount - status.backupExecuted) instructions behind")
        }
        statistics = (now, status.sentEntries, status.sentBytes, machine.instructionCount)
    }

    /// Logs an input at the current count, then lets the guest see it.
    private func deliver(_ input: MachineInput) {
        link.append(.input(Event(instructionCount: machine.instructionCount, input: input)))
        machine.apply(input)
    }

    /// A joining backup gets the state; a lost backup sends the node to the arbiter.
    private func handleLinkEvents() -> NodeOutcome? {
        let status = link.status
        if status.joinRequested {
            do {
                let started = monotonicNow()
                let snapshot = try machine.saveSnapshot()
                let paused = monotonicNow() - started
                if link.sendSnapshot(snapshot, generation: generation) {
                    log("the guest paused \(Int((paused * 1000).rounded())) ms for the initial state")
                }
            } catch {
                log("cannot snapshot the machine for the backup: \(error)")
            }
        }
        if status.backupLost {
            log("holding output; asking the arbiter to continue alone (generation \(generation) -> \(generation + 1))")
            switch claim() {
            case .won(let newGeneration):
                generation = newGeneration
                link.forgetBackup()
                log("won the arbiter: primary of VM '\(configuration.vm)' alone at generation \(generation); waiting for a new backup")
                release()
            case .lost(let current, let owner):
                log("lost the arbiter to '\(owner)' (generation \(current)): stopping this VM; its output is not released")
                return .lostArbitration(generation: current, owner: owner)
            }
        }
        return nil
    }

    /// Asks the arbiter until it answers (an unreachable arbiter keeps the output held).
    private func claim() -> ArbitrationOutcome {
        claimGeneration(arbiter: arbiter, vm: configuration.vm, expected: generation, owner: configuration.nodeID, log: log)
    }

    /// Whether the backup is too far behind to go on.
    private func mustThrottle() -> Bool {
        Throttle.mustPause(link.status, instructionCount: machine.instructionCount, configuration: configuration)
    }

    /// Sends what the backup's acknowledgements allow (everything, when alone).
    private func release() {
        let status = link.status
        let bytes: [UInt8]
        if status.hasBackup || status.backupLost {
            // Without a fresh word from the backup, hold even what it acknowledged (see leaseValid).
            guard status.leaseValid else { return }
            bytes = gate.release(acknowledged: status.acknowledged)
        } else {
            bytes = gate.releaseAll()
        }
        guard !bytes.isEmpty else { return }
        console.write(bytes)
        releaseLog?.record(generation: generation, node: configuration.nodeID, bytes: bytes.count)
    }

    /// The guest waits for an interrupt: wait on the host clock until its timer is due or
    /// something happens, releasing output as acknowledgements come; log how long it was.
    private func idle() {
        let ticks = machine.hart.ticksUntilTimerInterrupt
        let wait = min(ticks.map { Double($0) / Self.ticksPerSecond } ?? 0.5, 0.5)
        let start = monotonicNow()
        while true {
            let ticket = doorbell.ticket
            release()
            let status = link.status
            if console.hasInput || status.joinRequested || status.backupLost { break }
            let remaining = start + wait - monotonicNow()
            if remaining <= 0 { break }
            doorbell.wait(after: ticket, seconds: remaining)
        }
        let passed = UInt64(max(0, monotonicNow() - start) * Self.ticksPerSecond)
        let advance = min(ticks ?? passed, passed)
        if advance > 0 { deliver(.timeAdvance(ticks: advance)) }
    }

    /// The guest stopped: let the backup acknowledge the last entries, then release the rest.
    private func finish() {
        let deadline = monotonicNow() + 2 * configuration.heartbeat.timeout
        while !gate.isEmpty && monotonicNow() < deadline {
            let ticket = doorbell.ticket
            release()
            if link.status.backupLost { break }
            doorbell.wait(after: ticket, seconds: 0.02)
        }
        release()
    }
}

/// Collects the guest's console output during a slice.
final class OutputBuffer {
    var bytes: [UInt8] = []
    func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}

/// Claims `expected -> expected + 1`, retrying while the arbiter cannot be reached.
func claimGeneration(arbiter: any Arbiter, vm: String, expected: UInt64, owner: String, log: NodeLog) -> ArbitrationOutcome {
    var reported = false
    while true {
        switch blockingArbiterCall({ () async throws(ArbitrationError) -> ArbitrationOutcome in
            try await arbiter.claim(vm: vm, expectedGeneration: expected, owner: owner)
        }) {
        case .success(let outcome):
            return outcome
        case .failure(let error):
            if !reported { log("the arbiter does not answer (\(error)); retrying") }
            reported = true
            usleep(200_000)
        }
    }
}
