import Arbitration
import Foundation
import HostIO
import Machine
import NIOConcurrencyHelpers
import Replay

/// The live node, as a state machine the owner steps: runs the guest with the ``LiveRunner``
/// (every input logged before the guest sees it, checkpoints in the log), holds every output in
/// the ``OutputGate`` until the backup has acknowledged the entries it depends on, sends a joining
/// backup the state, and when its backup is lost asks the owner to claim the arbiter and
/// continues alone only if it wins.
///
/// Frames from the host network are inputs, taken each step like console input. Outputs leave
/// the gate as soon as an acknowledgement covers the input they depend on: the link calls back
/// on its own thread when an acknowledgement arrives (``PrimaryLogChannel/onAcknowledged``), so a
/// reply frame does not wait for the guest's slice to end; the gate is shared under a lock for
/// that. Releases run on the ``ReleaseThread`` (the console's event loop in `lockstep node`): the
/// machine thread asks it to release and never writes released output itself, so that the lease
/// is read on the thread that writes, right before each write (see ``releaseHere()``). A role
/// made for a backup that went live (`announces`) asks the guest to announce itself
/// (VIRTIO_NET_F_GUEST_ANNOUNCE) and sends the host's RARP rounds for the guest's MAC
/// (``MACAnnouncement``); one that loses the arbiter takes its network down before anything else.
///
/// ``step()`` never blocks (but for the last release of a guest that stopped, which it waits
/// for on the release thread): it says what the owner must do next (call again, wait until a time
/// or a doorbell ring, claim the arbiter). ``Node`` drives it on a thread with real links; the
/// simulation drives it with simulated ones and a virtual clock.
@_spi(Simulation) public final class PrimaryRole {
    /// What the owner does after a step.
    public enum Step: Equatable {
        case `continue`
        /// Nothing to do before this time (host clock) unless something happens (a ring).
        case wait(until: Double)
        /// The backup is lost: claim `expected -> expected + 1`, then call ``claimed(_:)``.
        case claim(expected: UInt64)
        case finished(NodeOutcome)
    }

    let configuration: NodeConfiguration
    public let machine: Machine
    let link: any PrimaryLogChannel
    let console: any ConsoleBackend
    let network: (any NetworkBackend)?
    /// This node's copies of the VM's disks, in `--disk` order (empty: a disk-less VM).
    let disks: [MirroredDisk]
    let log: NodeLog
    let releaseLog: ReleaseLog?
    let clock: () -> Double
    /// Where releases run (nil: on the caller's thread).
    let releaseThread: (any ReleaseThread)?
    /// Guarded by `gateLock` (the link's thread reads it when it releases).
    public private(set) var generation: UInt64
    /// The gate and everything a release touches, shared by the machine thread and the link's
    /// thread (releases on acknowledgements). Lock order: this lock, then the link's.
    private let gateLock = NIOLock()
    private var gate = OutputGate()
    /// A release is queued on the release thread and has not begun yet (guarded by `gateLock`).
    private var releaseQueued = false
    /// Whether the guest must still be asked to announce itself (a backup gone live).
    private var announcePending: Bool
    /// The host's RARP rounds still to send.
    private var announcement: MACAnnouncement?
    private var runner: LiveRunner!
    private let journal: LinkJournal
    private let gateSink: GateSink
    /// When the guest idles: until when the role waits for something to happen.
    private var idleDeadline: Double?
    /// The guest stopped: let the backup acknowledge the rest until the deadline.
    private var finishing: (outcome: NodeOutcome, deadline: Double)?
    /// `--disk-sync both`: the count of a disk flush the backup must execute before the guest
    /// runs on.
    private var flushBarrier: UInt64?
    /// A live copy to a joining backup, under way.
    private var copy: LiveCopySender?
    /// A switchover asked for (``requestSwitchover()``), from any thread.
    private let switchoverAsked = NIOLockedValueBox(false)
    /// A switchover under way: the guest stopped when it began; the handover is sent once the
    /// backup has executed and acknowledged everything (then `sent` holds when).
    private var switchover: (began: Double, deadline: Double, sent: Double?)?
    /// A switchover asked for whose guest still runs until the backup is close behind (so that
    /// the stop is short): when it was asked.
    private var switchoverApproach: Double?
    /// The last switchover's pause: from the guest's last instruction to sending the handover (seconds).
    private var switchoverPause: Double?
    /// The count at which the last backup's initial state was taken (``Throttle``).
    private var joinedAt: UInt64?
    /// Instructions the guest runs at a time while a switchover approaches: after each piece it
    /// waits for the backup to execute it, and the guest stops once the backup has executed
    /// everything, so that the pause (from the guest's last instruction to the handover) is the
    /// backup's replay of at most one such piece and a round trip.
    static let approachSlice: UInt64 = 100_000
    /// When the guest's last slice ended (the switchover's pause is measured from there).
    private var lastSliceEnd: Double?
    /// For the periodic statistics line.
    private var statistics: (time: Double, entries: UInt64, bytes: UInt64, instructions: UInt64)
    /// Called with each release (the simulation checks the output rule with it).
    public var onRelease: ((_ outputs: [MachineOutput], _ generation: UInt64) -> Void)?
    /// Called with each output the gate takes and its tag (the simulation checks releases with it).
    public var onHold: ((_ output: MachineOutput, _ after: UInt64) -> Void)?
    @_spi(Simulation) public var plantedBug: PlantedBug?

    /// - Parameters:
    ///   - network: the host side of the guest's network card, already started (nil: none; the
    ///     guest's frames are dropped).
    ///   - announces: this node was the backup and goes live: announce the guest's MAC from here.
    ///   - releaseThread: the thread that writes released output to `console` and `network`
    ///     without queuing it for another (nil: the caller's; the console writes at once).
    public init(configuration: NodeConfiguration, machine: Machine, generation: UInt64, link: any PrimaryLogChannel,
         console: any ConsoleBackend, network: (any NetworkBackend)? = nil, disks: [MirroredDisk] = [], announces: Bool = false,
         log: NodeLog, clock: @escaping () -> Double, outputs: OutputDigest = OutputDigest(),
         runnerSettings: LiveRunner.Settings? = nil, releaseThread: (any ReleaseThread)? = nil) {
        self.configuration = configuration
        self.machine = machine
        self.generation = generation
        self.link = link
        self.console = console
        self.network = network
        self.disks = disks
        announcePending = announces
        self.log = log
        self.clock = clock
        self.releaseThread = releaseThread
        releaseLog = configuration.releaseLogPath.flatMap { ReleaseLog(path: $0) }
        journal = LinkJournal(link: link)
        gateSink = GateSink()
        statistics = (clock(), 0, 0, machine.instructionCount)
        var settings = runnerSettings ?? LiveRunner.Settings()
        settings.slice = configuration.slice
        runner = LiveRunner(machine: machine, journal: journal, outputs: gateSink, settings: settings, outputDigest: outputs, clock: clock)
        gateSink.role = self
        link.onAcknowledged = { [weak self] in self?.release() }
        for (place, disk) in disks.enumerated() {
            disk.onWrite = { [weak self] extents in self?.copy?.noteDiskWrite(disk: place, extents) }
        }
        machine.stopsAtDiskFlush = configuration.diskSync == .both
    }

    /// The output digest so far (what the guest sent).
    public var outputDigest: OutputDigest { runner.outputDigest }

    /// Asks for a planned switchover (from any thread): the primary stops its guest at the end
    /// of the slice under way, waits until its backup has executed and acknowledged everything,
    /// hands over (``ReplicationMessage/handover(lastSequence:instructionCount:)``) and finishes
    /// with ``NodeOutcome/handedOver(instructionCount:)``; the backup claims the next generation
    /// and goes live. Without a backup in step it is refused (logged) and the guest runs on.
    public func requestSwitchover() {
        switchoverAsked.withLockedValue { $0 = true }
    }

    /// The switchover's steps while the guest is stopped for it (nil: none under way).
    private func stepSwitchover() -> Step? {
        if switchoverAsked.withLockedValue({ let asked = $0; $0 = false; return asked }) && switchover == nil {
            let status = link.status
            if !status.hasBackup || status.backupLost || status.joinRequested || copy != nil {
                log("switchover refused: no backup in step (the VM is not protected now)")
            } else if switchoverApproach == nil {
                switchoverApproach = clock()
            }
        }
        if let asked = switchoverApproach {
            // The guest runs on until the backup is close behind (at most 3 s), then stops.
            let status = link.status
            if status.backupLost || !status.hasBackup {
                switchoverApproach = nil
                log("switchover abandoned: the backup was lost")
            } else if status.backupExecuted >= machine.instructionCount || clock() >= asked + 3 {
                switchoverApproach = nil
                // The guest's pause began with its last instruction (if that was after the ask).
                switchover = (max(lastSliceEnd ?? clock(), asked), clock() + 2, nil)
                log("switchover: guest stopped at instruction \(machine.instructionCount) (the backup \(machine.instructionCount - min(machine.instructionCount, status.backupExecuted)) behind); waiting for it to execute and acknowledge everything")
            }
        }
        guard let current = switchover else { return nil }
        release()
        let status = link.status
        if let sent = current.sent {
            // Nothing more leaves this node: wait for the backup to take the handover and go.
            if status.backupLost || clock() >= sent + 2 * configuration.heartbeat.timeout {
                return .finished(.handedOver(instructionCount: machine.instructionCount))
            }
            return .wait(until: clock() + 0.01)
        }
        if status.backupLost || !status.hasBackup {
            switchover = nil
            log("switchover abandoned: the backup was lost; the guest runs on")
            return nil
        }
        let allOut = gateLock.withLock { gate.isEmpty }
        if status.backupExecuted >= machine.instructionCount && status.acknowledged >= status.lastSequence && allOut {
            guard link.sendHandover(instructionCount: machine.instructionCount) else {
                switchover = nil
                log("switchover abandoned: the backup went away; the guest runs on")
                return nil
            }
            let now = clock()
            switchover = (current.began, current.deadline, now)
            switchoverPause = now - current.began
            // Nothing more leaves this node: its clients are sent on their way at once (the
            // console's reconnect to the other host; the guest's MAC, which the new primary
            // announces from its host, is no longer answered here), rather than when the backup
            // is declared lost a heartbeat timeout from now.
            console.stopServing()
            network?.takeDown()
            log("switchover: handed over at instruction \(machine.instructionCount) after \(Int((now - current.began) * 1000)) ms; this node releases nothing more")
            return .wait(until: now + 0.01)
        }
        if clock() >= current.deadline {
            switchover = nil
            log("switchover abandoned: the backup did not catch up within 2 s; the guest runs on")
            return nil
        }
        return .wait(until: clock() + 0.001)
    }

    /// One step of the primary's loop.
    public func step() -> Step {
        if let switchoverStep = stepSwitchover() { return switchoverStep }
        if let finishing {
            releaseAndWait()
            if gateLock.withLock({ gate.isEmpty }) || link.status.backupLost || clock() >= finishing.deadline {
                releaseAndWait()   // written before the owner closes the console
                return .finished(finishing.outcome)
            }
            return .wait(until: min(finishing.deadline, clock() + 0.02))
        }
        let status = link.status
        if status.joinRequested {
            serveJoin(status)
        } else if let copy {
            copy.abandon()
            self.copy = nil
        }
        if status.backupLost {
            log("holding output; asking the arbiter to continue alone (generation \(generation) -> \(generation + 1))")
            return .claim(expected: generation)
        }
        reportStatisticsIfDue()
        do {
            if announcePending {
                announcePending = false
                try runner.deliver(.networkAnnounce)
                announcement = MACAnnouncement(mac: machine.network.mac, start: clock())
                log("announcing the guest's MAC address \(VirtioNetwork.format(machine.network.mac)) from this host")
            }
            let input = console.takeInput()
            if !input.isEmpty { try runner.deliver(.consoleBytes(input)) }
            if let network {
                for frame in network.takeFrames() { try runner.deliver(.networkFrame(frame)) }
            }
        } catch {
            return .finished(.diverged("cannot log an input: \(error)"))
        }
        sendDueAnnouncements()
        if mustThrottle() {
            release()
            if mustThrottle() { return .wait(until: clock() + 0.05) }
        }
        if let barrier = flushBarrier {
            let status = link.status
            if status.hasBackup && !status.backupLost && status.backupExecuted < barrier {
                release()
                return .wait(until: clock() + 0.05)   // the backup's acknowledgement rings
            }
            flushBarrier = nil
        }
        if runner.isIdle, let deadline = idleDeadline {
            release()
            let status = link.status
            let networkInput = network?.hasFrames ?? false
            if !(console.hasInput || networkInput || status.joinRequested || status.backupLost) && clock() < deadline {
                return .wait(until: min(deadline, announcement?.nextDeadline ?? deadline))
            }
            if copy != nil && clock() < deadline && !(console.hasInput || networkInput || status.backupLost) {
                // Only the disk copy has work: wait for its rate, not for the guest.
                return .wait(until: min(deadline, clock() + max(copy!.wait, 0.001)))
            }
        }
        idleDeadline = nil
        let result: LiveRunner.Step
        let limit = switchoverApproach == nil ? UInt64.max : machine.instructionCount + Self.approachSlice
        do { result = try runner.step(limit: limit) } catch { return .finished(.diverged("cannot log: \(error)")) }
        if switchoverApproach != nil { lastSliceEnd = clock() }
        release()
        switch result {
        case .ran:
            return .continue
        case .rebooted:
            log("the guest rebooted at instruction \(machine.instructionCount); the VM stays replicated")
            return .continue
        case .flushed(let count):
            flushBarrier = count
            return .continue
        case .idle(let deadline, _):
            idleDeadline = deadline
            let copyDeadline = copy.map { clock() + max($0.wait, 0.001) } ?? deadline
            return .wait(until: min(deadline, announcement?.nextDeadline ?? deadline, copyDeadline))
        case .stopped(.exited(let code)):
            finishing = (.guestExited(code: code), clock() + 2 * configuration.heartbeat.timeout)
            return .continue
        case .stopped(.resetRequested):
            finishing = (.guestReset, clock() + 2 * configuration.heartbeat.timeout)
            return .continue
        case .stopped:
            return .continue
        }
    }

    /// The arbiter's answer to ``Step/claim(expected:)``.
    public func claimed(_ outcome: ArbitrationOutcome) -> Step {
        switch outcome {
        case .won(let newGeneration):
            do {
                for disk in disks { try disk.beginGeneration(newGeneration) }
            } catch {
                // The records must say which generation later writes belong to; without it a
                // returning backup could be resynced wrongly.
                log("cannot record generation \(newGeneration) on the disks: \(error); stopping")
                return .finished(.diverged("disk record: \(error)"))
            }
            gateLock.withLock { generation = newGeneration }
            link.forgetBackup()
            log("won the arbiter: primary of VM '\(configuration.vm)' alone at generation \(generation); waiting for a new backup")
            release()
            return .continue
        case .lost(let current, let owner):
            network?.takeDown()   // first: a stale primary must not win the guest's MAC address back
            log("lost the arbiter to '\(owner)' (generation \(current)): stopping this VM; its output is not released")
            return .finished(.lostArbitration(generation: current, owner: owner))
        }
    }

    /// A joining backup. One that asked for a snapshot (`join`) gets the state at once
    /// (``sendState()``). One that asked for a live copy (`joinLive`, or `joinWithDisks` with its
    /// disks' reports) gets memory pages and, with disks, the extents the primary decides to copy
    /// to each (``ResyncDecision``), while the guest runs (``LiveCopySender``); when little is
    /// left, the rest and the state in one pause.
    private func serveJoin(_ status: PrimaryLink.Status) {
        if let copy, copy.join != status.joinNumber {
            copy.abandon()
            self.copy = nil
        }
        let hasDisks = !disks.isEmpty
        let diskCount = ResyncDecision.count(disks.count)
        guard status.joinLive else {
            if hasDisks {
                link.refuseJoin(reason: "VM '\(configuration.vm)' has \(diskCount): start the backup with --disk given \(disks.count) time\(disks.count == 1 ? "" : "s"), each its own copy of the image")
                return
            }
            sendState()
            return
        }
        if copy == nil {
            var diskCopy: DiskCopy?
            var plans: [DiskCopyPlan] = []
            switch (hasDisks, status.joinReports) {
            case (false, nil):
                break
            case (false, _?):
                link.refuseJoin(reason: "VM '\(configuration.vm)' has no disk on its primary: start the backup without --disk")
                return
            case (true, nil):
                link.refuseJoin(reason: "VM '\(configuration.vm)' has \(diskCount): start the backup with --disk given \(disks.count) time\(disks.count == 1 ? "" : "s"), each its own copy of the image")
                return
            case (true, let reports?):
                var records: [DiskRecord] = []
                for disk in disks {
                    guard let record = disk.record else {
                        link.refuseJoin(reason: "the primary's disk \(disk.image.path) has no record")
                        return
                    }
                    records.append(record)
                }
                switch ResyncDecision.decide(primary: records, backup: reports) {
                case .refuse(let reason):
                    link.refuseJoin(reason: reason)
                    return
                case .copy(let decided):
                    let extentBytes = records.map { Int($0.extentSectors) * 512 }
                    diskCopy = DiskCopy(plans: decided.map(\.extents), extentBytes: extentBytes)
                    for (place, (record, disk)) in zip(records, decided).enumerated() {
                        plans.append(DiskCopyPlan(instance: record.instance, full: disk.full, extents: UInt64(disk.extents.count)))
                        let which = records.count > 1 ? " \(place + 1) of \(records.count)" : ""
                        log("disk: \(disk.full ? "full" : "quick") resync of the backup's disk\(which): \(disk.extents.count) of \(record.extentCount) extents (\(LiveCopySender.megabytes(UInt64(disk.extents.count * extentBytes[place]))) MiB)")
                    }
                }
            }
            guard link.sendDiskMessages([.diskPlan(generation: generation, disks: plans)]) else { return }
            copy = LiveCopySender(join: status.joinNumber, machine: machine, link: link, disks: disks,
                                  diskCopy: diskCopy, bytesPerSecond: configuration.diskSyncRate, log: log, now: clock())
        }
        guard let sender = copy else { return }
        if sender.mayFinish {
            let started = clock()
            copy = nil
            guard let snapshot = sender.finish() else { return }
            sendState(snapshot: snapshot, pausedSince: started)
            return
        }
        if !sender.step(now: clock()) {
            sender.abandon()
            copy = nil
        }
    }

    /// A joining backup gets the state, then a checkpoint at the same count to check it against.
    private func sendState(snapshot finalSnapshot: [UInt8]? = nil, pausedSince: Double? = nil) {
        do {
            let started = pausedSince ?? clock()
            let snapshot = try finalSnapshot ?? machine.saveSnapshot()
            let saved = clock()
            if link.sendSnapshot(snapshot, generation: generation) {
                joinedAt = machine.instructionCount
                // The backup starts from this state with empty TLBs: so does the primary, so that
                // both fill them by the same accesses from this count on. A guest that changes a
                // page-table entry without a fence (Linux clears accessed bits without one) then
                // finds the same on both: a walk that sets the bit again on one and a cached entry
                // on the other would make their memories differ.
                machine.hart.flushTranslationCache()
                let sent = clock()
                try runner.checkpoint()
                // The whole pause: until the guest runs again (after the checkpoint that lets the
                // backup prove what it received).
                let end = clock()
                func ms(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }
                log("the guest paused \(ms(end - started)) ms for the initial state (\(ms(saved - started)) ms the rest of the copy and the state, \(ms(sent - saved)) ms queuing \(snapshot.count) bytes, \(ms(end - sent)) ms the checkpoint)")
            }
        } catch {
            log("cannot snapshot the machine for the backup: \(error)")
        }
    }

    /// What this primary reports in its status file (``NodeRuntimeStatus/primary(_:)``), now.
    /// On the machine thread.
    public func runtimeStatus(wallClock: Double) -> NodeRuntimeStatus {
        let (outputs, generation) = gateLock.withLock {
            (NodeRuntimeStatus.Outputs(count: gate.count, bytes: gate.heldBytes, oldestSince: gate.oldestSince), self.generation)
        }
        return NodeRuntimeStatus.primary(NodeRuntimeStatus.PrimaryState(
            vm: configuration.vm, node: configuration.nodeID, generation: generation, instructionCount: machine.instructionCount,
            link: link.status, outputs: outputs, copy: copy?.progress, switchoverPauseSeconds: switchoverPause,
            now: clock(), wallClock: wallClock))
    }

    /// Every `statisticsInterval` seconds with a backup: how much the log carried.
    private func reportStatisticsIfDue() {
        let now = clock()
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

    /// Whether the backup is too far behind to go on. While a switchover approaches, the guest
    /// runs one ``approachSlice`` at a time, each once the backup has executed everything before
    /// it: a backup slower than its primary (a busy host) closes in, at the guest's expense.
    private func mustThrottle() -> Bool {
        Throttle.mustPause(link.status, instructionCount: machine.instructionCount, configuration: configuration,
                           maximumLag: switchoverApproach == nil ? nil : 0, joinedAt: joinedAt)
    }

    /// An output the guest produced, tagged with the last input logged before it. A frame whose
    /// input the backup has acknowledged already leaves at once, mid-slice.
    fileprivate func hold(_ output: MachineOutput, after sequence: UInt64) {
        onHold?(output, sequence)
        let now = clock()
        gateLock.withLock { gate.hold(output, after: sequence, at: now) }
        if case .networkFrame = output { release() }
    }

    /// The host's RARP rounds that are due (a backup gone live), sent at once: they are the
    /// host's own frames, not the guest's, and this node has won the arbiter.
    private func sendDueAnnouncements() {
        guard var schedule = announcement else { return }
        for _ in 0..<schedule.due(at: clock()) { network?.send(schedule.frame) }
        announcement = schedule.nextDeadline == nil ? nil : schedule
    }

    /// Sends what the backup's acknowledgements allow (everything, when alone): on the release
    /// thread, at once if the caller runs on it (the link's acknowledgements), otherwise queued
    /// for it (once: a release queued and not begun covers every later request).
    private func release() {
        guard let releaseThread, !releaseThread.isCurrent else { return releaseHere() }
        let queue = gateLock.withLock {
            guard !gate.isEmpty, !releaseQueued else { return false }
            releaseQueued = true
            return true
        }
        guard queue else { return }
        releaseThread.execute { [weak self] in
            guard let self else { return }
            gateLock.withLock { releaseQueued = false }
            releaseHere()
        }
    }

    /// ``release()``, returning once the release has run (the guest stopped: the owner closes the
    /// console next).
    private func releaseAndWait() {
        guard let releaseThread, !releaseThread.isCurrent else { return releaseHere() }
        releaseThread.executeAndWait { [weak self] in self?.releaseHere() }
    }

    /// The release itself, on the release thread.
    ///
    /// With a backup, the lease decides: outputs leave only while the backup's newest echo is
    /// less than half a heartbeat timeout old (``PrimaryLink/Status/leaseExpiry``), and it is
    /// looked at again with a fresh clock reading right before each output is written, on this
    /// thread, with nothing queued between the two and all that can be done beforehand done
    /// before the reading (``ConsoleBackend/prepareWrite(_:)``). A process stopped (SIGSTOP, a
    /// stalled host) anywhere before that reading reads, once it thaws, a time past the lease,
    /// and writes nothing: what is not written goes back to the gate. What remains is the
    /// stretch between that reading and the write system call (SwiftNIO's pipeline: microseconds
    /// in a release build, tens of them in a debug build): a stop there lets that one write out
    /// after the thaw, which only fencing at the receiver could prevent (docs/replication.md).
    /// The release log records, per output, the clock reading that decided it and the time the
    /// write returned.
    private func releaseHere() {
        gateLock.withLock {
            guard let heldSince = gate.oldestSince else { return }
            let status = link.status
            let guarded = status.hasBackup || status.backupLost
            var outputs: [MachineOutput]
            if guarded {
                // Without a fresh word from the backup, hold even what it acknowledged (see leaseValid).
                guard status.leaseValid || plantedBug == .releaseBeforeAck else { return }
                outputs = gate.release(acknowledged: status.acknowledged)
                if plantedBug == .releaseBeforeAck, outputs.isEmpty, let oldest = gate.oldestSequence {
                    outputs = gate.release(acknowledged: oldest)   // planted: one output leaves early
                    plantedBug = nil
                    onRelease?(outputs, generation)
                    send(outputs)
                    return
                }
            } else {
                outputs = gate.releaseAll()
            }
            guard !outputs.isEmpty else { return }
            var written: [ReleaseLog.Write] = []
            for output in outputs {
                let write = prepareSend(output)
                let decided = clock()
                if guarded && !(decided < status.leaseExpiry) { break }
                write()
                written.append(ReleaseLog.Write(decided: decided, done: clock(), bytes: output.byteCount))
            }
            if written.count < outputs.count { gate.putBack(Array(outputs[written.count...]), after: status.acknowledged, since: heldSince) }
            guard !written.isEmpty else { return }
            onRelease?(Array(outputs[..<written.count]), generation)
            releaseLog?.record(generation: generation, node: configuration.nodeID, written)
        }
    }

    /// What writes `output`, prepared as far as it can be without writing.
    private func prepareSend(_ output: MachineOutput) -> () -> Void {
        switch output {
        case .console(let data): return console.prepareWrite(data)
        case .networkFrame(let frame): return { [network] in network?.send(frame) }   // dropped when the VM has no network backend
        }
    }

    /// Writes outputs to the console and the network backend.
    private func send(_ outputs: [MachineOutput]) {
        for output in outputs {
            switch output {
            case .console(let data): console.write(data)
            case .networkFrame(let frame): network?.send(frame)   // dropped when the VM has no network backend
            }
        }
    }
}

/// The primary's journal is the replication log: positions are sequence numbers.
final class LinkJournal: Journal {
    let link: any PrimaryLogChannel
    private(set) var position: UInt64

    init(link: any PrimaryLogChannel) {
        self.link = link
        position = link.status.lastSequence
    }

    func append(_ record: JournalRecord) {
        position = link.append(record)
    }
}

/// Hands the runner's outputs to the role's gate.
final class GateSink: OutputSink {
    weak var role: PrimaryRole?
    func emit(_ output: MachineOutput, after position: UInt64) {
        role?.hold(output, after: position)
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
