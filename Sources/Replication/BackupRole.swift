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
    /// This node's copies of the VM's disks, in `--disk` order (empty: a disk-less VM).
    let disks: [MirroredDisk]
    let log: NodeLog
    let clock: () -> Double
    private var follower: Follower?
    private var generation: UInt64 = 0
    /// The disk copy under way: per disk, its plan (whose disk it makes this one); what arrived.
    private var resync: (plans: [DiskCopyPlan], received: UInt64, bytes: UInt64)?
    /// RAM pages of a live copy, the latest of each, until the final snapshot builds the machine.
    private var pages: [UInt32: [UInt8]] = [:]
    /// Whether the primary began a live copy (its plan arrived) for the current join.
    private var liveCopy = false
    @_spi(Simulation) public var plantedBug: PlantedBug?
    /// Called on the stepping thread before every piece of execution (at most
    /// ``executionChunk`` instructions) with the instructions left to the newest entry taken,
    /// and with 0 once they are executed (``BackupPriority`` acts on it).
    public var onProgress: ((_ backlog: UInt64) -> Void)?
    /// Instructions executed between two calls of ``onProgress`` (and two updates of the count
    /// the acknowledgements carry) while the backup works through a backlog.
    static let executionChunk: UInt64 = 100_000
    /// The machine being followed (nil before the initial state arrived).
    public var machine: Machine? { follower?.machine }

    /// The newest generation of the VM this node knew of when it set out to join (the arbiter's):
    /// a primary whose state carries an older one has been replaced and is refused (fencing).
    let fence: UInt64

    public init(configuration: NodeConfiguration, link: any BackupLogChannel, disks: [MirroredDisk] = [], log: NodeLog,
                clock: @escaping () -> Double, fence: UInt64 = 0) {
        self.fence = fence
        self.configuration = configuration
        self.link = link
        self.disks = disks
        self.log = log
        self.clock = clock
    }

    /// What this backup reports in its status file (``NodeRuntimeStatus/backup(vm:node:generation:instructionCount:copy:wallClock:)``).
    /// On the thread that steps it.
    public func runtimeStatus(wallClock: Double) -> NodeRuntimeStatus {
        var copy: NodeRuntimeStatus.Copy?
        if liveCopy || resync != nil {
            let memory = UInt64(pages.count) * 4096
            if let resync, !disks.isEmpty {
                let planned = resync.plans.reduce(0) { $0 + $1.extents }
                let extentBytes = UInt64(disks[0].extentLength(0))
                copy = NodeRuntimeStatus.Copy(side: .receiving, phase: resync.received > 0 ? .disk : .memory,
                                              bytesDone: memory + resync.received * extentBytes, bytesTotal: nil,
                                              progress: planned == 0 ? 1 : min(1, Double(resync.received) / Double(planned)))
            } else {
                copy = NodeRuntimeStatus.Copy(side: .receiving, phase: .memory, bytesDone: memory, bytesTotal: nil)
            }
        }
        return NodeRuntimeStatus.backup(vm: configuration.vm, node: configuration.nodeID, generation: generation,
                                        instructionCount: follower?.machine.instructionCount, copy: copy, wallClock: wallClock)
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
        if let stop = execute(entries, on: follower) { return .stopped(stop) }
        link.noteExecuted(follower.machine.instructionCount)
        onProgress?(0)
        if !entries.isEmpty { return .continue }
        link.reportCaughtUp()
        if let count = link.handover, follower.machine.instructionCount >= count {
            log("the primary handed over at instruction \(count) (a switchover): taking over")
            return .primaryLost(follower.machine, generation: generation, outputs: follower.outputDigest)
        }
        if link.isPrimaryLost {
            if let stop = execute(link.takeEntries(), on: follower) { return .stopped(stop) }
            return .primaryLost(follower.machine, generation: generation, outputs: follower.outputDigest)
        }
        if let reason = link.refusedReason { return .stopped(.refused(reason)) }
        return .wait(until: clock() + 0.1)
    }

    /// Why a primary whose guest has MAC address `theirs` is refused by a node started with
    /// `--mac ours`: both nodes of a VM must agree on it, since a failover moves the address to
    /// the backup's host and the pool gives each VM its own.
    static func macRefusal(primary theirs: [UInt8], node ours: [UInt8]) -> String {
        let primary = MACAddress.format(theirs)
        return "the primary's guest has MAC address \(primary), this node was started with --mac \(MACAddress.format(ours)): "
            + "both nodes of a VM give its guest the same MAC address; start this node with --mac \(primary)"
    }

    /// Writes the disk copy's extents as they arrive (the record marks each before it is
    /// written, so a copy cut short is resumed correctly by the next join); an outcome if the
    /// disk cannot be written.
    private func takeCopyTransfers() -> NodeOutcome? {
        for transfer in link.takeCopyTransfers() {
            do {
                switch transfer {
                case .plan(let generation, let plans):
                    if let stale = refusalIfStale(generation) { return stale }
                    pages = [:]
                    liveCopy = true
                    guard !disks.isEmpty else { continue }
                    guard plans.count == disks.count else {
                        return .refused("the primary's copy plan names \(plans.count) disks, this node has \(disks.count): start it with the primary's number of --disk")
                    }
                    for (place, (disk, plan)) in zip(disks, plans).enumerated() {
                        try disk.beginResync(full: plan.full)
                        let which = disks.count > 1 ? " of disk \(place + 1) of \(disks.count) (\(disk.image.path))" : ""
                        log("disk: \(plan.full ? "full" : "quick") resync\(which) from the primary (generation \(generation)): \(plan.extents) extents planned")
                    }
                    resync = (plans, 0, 0)
                case .pages(let indices, let compressed, let bytes):
                    guard liveCopy else { return .refused("the primary sent memory pages before its plan") }
                    let length = indices.count * 4096
                    guard let data = compressed ? Zstd.decompress(bytes, length: length) : bytes, data.count == length else {
                        return .refused("the primary sent memory pages that do not decompress to \(indices.count) pages")
                    }
                    for (position, index) in indices.enumerated() {
                        pages[index] = Array(data[(position * 4096)..<((position + 1) * 4096)])
                    }
                case .extent(let place, let index, let compressed, let bytes):
                    guard resync != nil else { return .refused("the primary sent a disk extent before its plan") }
                    guard place < disks.count else { return .refused("the primary sent an extent of disk \(UInt64(place) + 1); this node has \(disks.count)") }
                    let disk = disks[Int(place)]
                    let extent = Int(clamping: index)   // writeExtent refuses one beyond the disk
                    if compressed {
                        guard let data = Zstd.decompress(bytes, length: disk.extentLength(extent)) else {
                            return .refused("the primary sent a disk extent that does not decompress")
                        }
                        try disk.writeExtent(extent, data)
                    } else {
                        try disk.writeExtent(extent, bytes)
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

    /// Builds the machine from the primary's snapshot (with this node's disks, now copies of the
    /// primary's: the snapshot's disk identities prove it).
    private func start(_ state: BackupLink.InitialState) -> Step {
        if let stale = refusalIfStale(state.generation) { return .stopped(stale) }
        let machine: Machine
        do {
            let info = try SnapshotInfo(state.snapshot)
            if let mac = configuration.mac, info.configuration.mac != mac {
                return .stopped(.refused(Self.macRefusal(primary: info.configuration.mac, node: mac)))
            }
            machine = try Machine(configuration: info.configuration, disks: disks)
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
        if let notice = machine.use(configuration.engine) { log(notice) }
        log("the machine from the primary's state runs on the \(machine.engine.rawValue) engine")
        if !disks.isEmpty {
            guard let resync, resync.plans.count == disks.count else {
                return .stopped(.refused("the primary sent its state without a plan for this node's \(disks.count) disk(s)"))
            }
            do {
                for (disk, plan) in zip(disks, resync.plans) { try disk.adopt(instance: plan.instance, generation: state.generation) }
            } catch {
                return .stopped(.refused("disk: \(error)"))
            }
            let what = disks.count > 1 ? "the \(disks.count) disks are" : "the disk is"
            log("disk: resync done (\(resync.received) extent messages, \(resync.bytes) bytes of data); \(what) the primary's at generation \(state.generation)")
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
        let target = entries.last?.instructionCount ?? 0
        for entry in entries {
            if plantedBug == .loseEntry, case .input = entry {
                plantedBug = nil   // planted: one input silently lost
                continue
            }
            do {
                // In pieces, so that a long backlog is seen (and acknowledged) as it shrinks.
                // Stopping short of an entry's count is safe: the machine can stop early (idle, a
                // reset, an exit) only where the primary's did, and the primary logged an entry
                // there, so no earlier count than this entry's.
                while follower.machine.instructionCount + Self.executionChunk < entry.instructionCount {
                    onProgress?(target - follower.machine.instructionCount)
                    try follower.run(to: follower.machine.instructionCount + Self.executionChunk)
                    link.noteExecuted(follower.machine.instructionCount)
                }
                onProgress?(target - min(target, follower.machine.instructionCount))
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
