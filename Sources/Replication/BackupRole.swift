import HostIO
import Machine
import Replay

/// The standby node, as a state machine the owner steps: builds its machine from the primary's
/// snapshot, then follows the log with the ``Follower`` (never past the last count the primary
/// announced, comparing every checkpoint), until the primary is declared lost.
@_spi(Simulation) public final class BackupRole {
    /// What the owner does after a step.
    public enum Step {
        case `continue`
        /// Nothing to do before this time unless something happens (a ring).
        case wait(until: Double)
        /// The primary is gone and every received entry is executed: go live with this machine.
        case primaryLost(Machine, generation: UInt64, outputs: OutputDigest)
        case stopped(NodeOutcome)
    }

    let configuration: NodeConfiguration
    let link: any BackupLogChannel
    /// This node's copy of the VM's disk (nil: a disk-less VM).
    let disk: MirroredDisk?
    let log: NodeLog
    let clock: () -> Double
    private var follower: Follower?
    private var generation: UInt64 = 0
    /// The disk copy under way: whose disk it makes this one, and what arrived.
    private var resync: (instance: [UInt8], full: Bool, planned: UInt64, received: UInt64, bytes: UInt64)?
    /// RAM pages of a live copy, the latest of each, until the final snapshot builds the machine.
    private var pages: [UInt32: [UInt8]] = [:]
    /// Whether the primary began a live copy (its plan arrived) for the current join.
    private var liveCopy = false
    @_spi(Simulation) public var plantedBug: PlantedBug?
    /// Instructions the last step had to execute to reach the newest entry it took: how far
    /// behind the primary's log the backup was (``BackupPriority`` acts on it).
    public private(set) var backlog: UInt64 = 0
    /// The machine being followed (nil before the initial state arrived).
    public var machine: Machine? { follower?.machine }

    /// The newest generation of the VM this node knew of when it set out to join (the arbiter's):
    /// a primary whose state carries an older one has been replaced and is refused (fencing).
    let fence: UInt64

    public init(configuration: NodeConfiguration, link: any BackupLogChannel, disk: MirroredDisk? = nil, log: NodeLog,
                clock: @escaping () -> Double, fence: UInt64 = 0) {
        self.fence = fence
        self.configuration = configuration
        self.link = link
        self.disk = disk
        self.log = log
        self.clock = clock
    }

    public func step() -> Step {
        guard let follower else {
            // The state first: every piece of the copy arrived before it, so the pieces taken
            // next include all of them (taken the other way round, pieces that arrived in
            // between would be missed).
            let state = link.takeInitialState()
            if let stop = takeCopyTransfers() { return .stopped(stop) }
            if let state { return start(state) }
            if let reason = link.refusedReason { return .stopped(.refused(reason)) }
            return .wait(until: clock() + 0.5)
        }
        let entries = link.takeEntries()
        let start = follower.machine.instructionCount
        let target = entries.last?.instructionCount ?? start
        backlog = target > start ? target - start : 0
        if let stop = execute(entries, on: follower) { return .stopped(stop) }
        link.noteExecuted(follower.machine.instructionCount)
        if !entries.isEmpty { return .continue }
        link.reportCaughtUp()
        if link.isPrimaryLost {
            if let stop = execute(link.takeEntries(), on: follower) { return .stopped(stop) }
            return .primaryLost(follower.machine, generation: generation, outputs: follower.outputDigest)
        }
        if let reason = link.refusedReason { return .stopped(.refused(reason)) }
        return .wait(until: clock() + 0.1)
    }

    /// Writes the disk copy's extents as they arrive (the record marks each before it is
    /// written, so a copy cut short is resumed correctly by the next join); an outcome if the
    /// disk cannot be written.
    private func takeCopyTransfers() -> NodeOutcome? {
        for transfer in link.takeCopyTransfers() {
            do {
                switch transfer {
                case .plan(let instance, let generation, let full, let extents):
                    if let stale = refusalIfStale(generation) { return stale }
                    pages = [:]
                    liveCopy = true
                    guard let disk else { continue }
                    try disk.beginResync(full: full)
                    resync = (instance, full, extents, 0, 0)
                    log("disk: \(full ? "full" : "quick") resync from the primary (generation \(generation)): \(extents) extents planned")
                case .pages(let indices, let compressed, let bytes):
                    guard liveCopy else { return .refused("the primary sent memory pages before its plan") }
                    let length = indices.count * 4096
                    guard let data = compressed ? Zstd.decompress(bytes, length: length) : bytes, data.count == length else {
                        return .refused("the primary sent memory pages that do not decompress to \(indices.count) pages")
                    }
                    for (position, index) in indices.enumerated() {
                        pages[index] = Array(data[(position * 4096)..<((position + 1) * 4096)])
                    }
                case .extent(let index, let compressed, let bytes):
                    guard let disk, resync != nil else { return .refused("the primary sent a disk extent before its plan") }
                    if compressed {
                        guard let data = Zstd.decompress(bytes, length: disk.extentLength(Int(index))) else {
                            return .refused("the primary sent a disk extent that does not decompress")
                        }
                        try disk.writeExtent(Int(index), data)
                    } else {
                        try disk.writeExtent(Int(index), bytes)
                    }
                    resync!.received += 1
                    resync!.bytes += UInt64(bytes.count)
                }
            } catch {
                log("disk: \(error); stopping this backup")
                return .refused("disk: \(error)")
            }
        }
        return nil
    }

    /// Builds the machine from the primary's snapshot (with this node's disk, now a copy of the
    /// primary's: the snapshot's disk identity proves it).
    private func start(_ state: BackupLink.InitialState) -> Step {
        if let stale = refusalIfStale(state.generation) { return .stopped(stale) }
        let machine: Machine
        do {
            let info = try SnapshotInfo(state.snapshot)
            machine = try Machine(configuration: info.configuration, disk: disk)
            if !pages.isEmpty {
                // The live copy's pages first; the final snapshot brings the rest (its checkpoint,
                // next in the log, proves the whole).
                let indices = pages.keys.sorted()
                var bytes: [UInt8] = []
                bytes.reserveCapacity(indices.count * 4096)
                for index in indices { bytes += pages[index]! }
                try machine.writeRAMPages(indices.map { Int($0) }, bytes)
                log("memory: \(indices.count) pages from the live copy")
                pages = [:]
            }
            try machine.restoreSnapshot(state.snapshot)
        } catch {
            return .stopped(.refused(ReplicationError.badSnapshot("\(error)").description))
        }
        if let disk {
            guard let resync else { return .stopped(.refused("the primary sent its state without a disk plan")) }
            do { try disk.adopt(instance: resync.instance, generation: state.generation) } catch {
                return .stopped(.refused("disk: \(error)"))
            }
            log("disk: resync done (\(resync.received) extent messages, \(resync.bytes) bytes of data); the disk is the primary's at generation \(state.generation)")
        }
        generation = state.generation
        // The primary's outputs are the ones that leave; the backup's are only digested, and the
        // first checkpoint (taken where the snapshot was) says what was sent before.
        follower = Follower(machine: machine, outputs: nil)
        log("backup of VM '\(configuration.vm)' at generation \(generation), from instruction \(machine.instructionCount)")
        link.noteExecuted(machine.instructionCount)
        return .continue
    }

    /// The refusal of a primary whose generation is older than ``fence``: it has been replaced,
    /// and nothing it sends (disk extents included) may be taken.
    private func refusalIfStale(_ generation: UInt64) -> NodeOutcome? {
        guard generation < fence else { return nil }
        return .refused("the primary that answered runs VM '\(configuration.vm)' at generation \(generation), "
            + "but the arbiter had it at generation \(fence): that primary has been replaced (fenced) and must stop; "
            + "this node took nothing from it. Start this node again to join the live primary")
    }

    /// Follows `entries`; an outcome when following must stop.
    private func execute(_ entries: [LogEntry], on follower: Follower) -> NodeOutcome? {
        for entry in entries {
            if plantedBug == .loseEntry, case .input = entry {
                plantedBug = nil   // planted: one input silently lost
                continue
            }
            do {
                switch try follower.take(entry) {
                case .exited(let code)?: return .guestExited(code: code)
                default: break   // a reset request waits for the primary's reboot entry at the same count
                }
                if case .input(let event) = entry, event.input == .reboot {
                    log("the guest rebooted at instruction \(event.instructionCount), as on the primary")
                }
            } catch {
                log("\(error); stopping this backup (restart it to join again from a fresh state)")
                return .diverged(error.description)
            }
        }
        return nil
    }
}
