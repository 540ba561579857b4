import NIOConcurrencyHelpers
import Foundation
import Arbitration
import HostIO
import LockstepSupport
import Machine
import Replay
import NIOPosix

/// One host's share of a replicated VM (docs/replication.md). Its role is decided at start:
///
/// - if the arbiter has never seen the VM (generation 0) and this node wins the first claim, it
///   boots the guest and is the primary, alone until a backup joins;
/// - otherwise it joins the live primary at the peer addresses as the backup, and receives the
///   machine as a snapshot (a node without state can never be primary of a running VM).
///
/// A backup whose primary is lost executes every entry it holds, claims the next generation and,
/// if it wins, goes live: it opens its console port, listens for a new backup and continues the
/// same machine as primary. A primary whose backup is lost continues alone only if it wins.
///
/// The guest's network backend is made (and checked) by the caller before the node starts, but
/// started only when this node is the live primary: a backup's backend neither sends nor
/// receives. A backup that goes live announces the guest's MAC from this host; a node that loses
/// the arbiter takes the backend down before anything else.
public final class Node {
    public let configuration: NodeConfiguration
    let arbiter: any Arbiter
    let network: (any NetworkBackend)?
    /// This node's copies of the VM's disks, in `--disk` order (docs/disks.md).
    let disks: [MirroredDisk]
    let log: NodeLog
    let doorbell = Doorbell()
    let group: MultiThreadedEventLoopGroup
    /// Called once this node is the live primary, with its console port and line addresses (for tests and the CLI).
    public var onLive: ((_ generation: UInt64, _ consolePort: Int, _ lines: [Endpoint]) -> Void)?
    /// The primary role while this node is the live primary (for ``requestSwitchover()``).
    private let livePrimary = NIOLockedValueBox<PrimaryRole?>(nil)
    /// `--status-file` (nil: none).
    let statusFile: NodeStatusFile?
    /// What the status file says besides the role's own state: go-lives, and the last status
    /// written (for the one that says the run ended). Used by one thread at a time (the backup's
    /// replay thread, then the caller's).
    private var goLives = 0
    private var lastGoLive: NodeRuntimeStatus.GoLive?
    private var lastStatus: NodeRuntimeStatus?

    public init(configuration: NodeConfiguration, arbiter: any Arbiter, network: (any NetworkBackend)? = nil,
                disks: [MirroredDisk] = []) {
        self.configuration = configuration
        self.arbiter = arbiter
        self.network = network
        self.disks = disks
        log = NodeLog(nodeID: configuration.nodeID, vm: configuration.vm)
        statusFile = configuration.statusFilePath.map { NodeStatusFile(path: $0, log: NodeLog(nodeID: configuration.nodeID, vm: configuration.vm)) }
        // One loop: the lines, the console's connections and the primary's releases share it
        // (a release writes the console at once only on the loop of its connections).
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit { try? group.syncShutdownGracefully() }

    /// Runs the node until its VM stops. `makeMachine` builds a freshly booted guest, used only
    /// if this node starts the VM. The status file (if any) says `starting` first and `finished`
    /// last.
    public func run(makeMachine: () throws -> Machine) throws -> NodeOutcome {
        report(NodeRuntimeStatus(vm: configuration.vm, node: configuration.nodeID, updated: Date().timeIntervalSince1970), force: true)
        defer {
            var last = lastStatus ?? NodeRuntimeStatus(vm: configuration.vm, node: configuration.nodeID, updated: 0)
            last.role = .finished
            last.live = false
            last.copy = nil
            last.updated = Date().timeIntervalSince1970
            report(last, force: true)
        }
        return try runRoles(makeMachine: makeMachine)
    }

    /// Writes `status` to the status file (with this node's go-lives) when it is due, or now;
    /// the log's records carry its role and generation from now on.
    private func report(_ status: NodeRuntimeStatus, force: Bool = false) {
        var status = status
        status.goLives = goLives
        status.lastGoLive = lastGoLive
        if lastStatus?.role != status.role || lastStatus?.generation != status.generation {
            log.set(role: status.role.rawValue, generation: status.generation)
        }
        lastStatus = status
        guard let statusFile else { return }
        if force { statusFile.write(status, now: monotonicNow()) } else { statusFile.offer(status, now: monotonicNow()) }
    }

    private func runRoles(makeMachine: () throws -> Machine) throws -> NodeOutcome {
        let authentication = PeerAuthentication(key: configuration.key, vm: configuration.vm, nodeID: configuration.nodeID)
        let current = blockingArbiterCall({ [arbiter, configuration] () async throws(ArbitrationError) -> (generation: UInt64, owner: String) in
            try await arbiter.current(vm: configuration.vm)
        })
        var startsVM = false
        var coldStart: UInt64?
        // The newest generation this node knows of: a primary offering an older one is stale (fenced).
        var fence: UInt64 = 0
        switch current {
        case .success(let state) where state.generation == 0:
            for disk in disks {
                if let record = disk.record, record.generation > 0, record.state == .consistent {
                    throw NodeStartError.diskAhead(vm: configuration.vm, generation: record.generation, image: disk.image.path)
                }
            }
            switch claimGeneration(arbiter: arbiter, vm: configuration.vm, expected: 0, owner: configuration.nodeID, log: log) {
            case .won: startsVM = true
            case .lost(let generation, let owner):
                fence = generation
                log("'\(owner)' started VM '\(configuration.vm)' first (generation \(generation)): joining it")
            }
        case .success(let state):
            fence = state.generation
            if let generation = coldStartGeneration(state) {
                coldStart = generation
            } else {
                log("VM '\(configuration.vm)' is at generation \(state.generation) (owner '\(state.owner)'): joining its primary as backup")
            }
        case .failure(let error):
            throw error
        }

        if startsVM {
            for disk in disks {
                // An instance per disk: a disk given at another place on the other node (the
                // order of --disk swapped) is another instance there, and refused.
                var instance = [UInt8](repeating: 0, count: 16)
                for i in instance.indices { instance[i] = UInt8.random(in: 0...255) }
                try disk.start(instance: instance, generation: 1)
            }
            let machine = try makeMachine()
            for disk in machine.disks { try disk.prepareDigest() }
            log("started VM '\(configuration.vm)' at generation 1: primary, alone until a backup joins")
            return try runPrimary(machine: machine, generation: 1, authentication: authentication)
        }
        if let coldStart {
            switch claimGeneration(arbiter: arbiter, vm: configuration.vm, expected: coldStart, owner: configuration.nodeID, log: log) {
            case .won(let generation):
                for disk in disks { try disk.beginGeneration(generation) }
                let machine = try makeMachine()
                for disk in machine.disks { try disk.prepareDigest() }
                log("no primary of VM '\(configuration.vm)' answers and this node's \(disks.count > 1 ? "disks are" : "disk is") the newest (generation \(coldStart)): booting the guest from \(disks.count > 1 ? "them" : "it") at generation \(generation)")
                return try runPrimary(machine: machine, generation: generation, authentication: authentication)
            case .lost(let generation, let owner):
                fence = max(fence, generation)
                log("'\(owner)' moved VM '\(configuration.vm)' to generation \(generation) first: joining it as backup")
            }
        }
        let joinMessage: ReplicationMessage = disks.isEmpty
            ? .joinLive : .joinWithDisks(disks.map { DiskReport(disk: $0, wantsFull: configuration.resyncFull) })
        let link = BackupLink(authentication: authentication, heartbeat: configuration.heartbeat, doorbell: doorbell, log: log,
                              group: group, peers: configuration.peers.map(\.pair), joinMessage: joinMessage)
        link.start()
        let role = BackupRole(configuration: configuration, link: link, disks: disks, log: log, clock: monotonicNow, fence: fence)
        let ending = follow(role)
        link.shutdown()
        switch ending {
        case .stopped(let outcome):
            return outcome
        case .primaryLost(let machine, let generation, let outputs):
            log("executed the whole log to instruction \(machine.instructionCount); claiming generation \(generation + 1)")
            let claimStarted = monotonicNow()
            switch claimGeneration(arbiter: arbiter, vm: configuration.vm, expected: generation, owner: configuration.nodeID, log: log) {
            case .won(let newGeneration):
                goLives += 1
                lastGoLive = NodeRuntimeStatus.GoLive(kind: link.handover != nil ? .switchover : .failover, generation: newGeneration,
                                                      pauseSeconds: monotonicNow() - (link.lastHeard ?? claimStarted))
                for disk in disks { try disk.beginGeneration(newGeneration) }
                log("won the arbiter in \(Int((monotonicNow() - claimStarted) * 1000)) ms: live as primary of VM '\(configuration.vm)' at generation \(newGeneration)")
                return try runPrimary(machine: machine, generation: newGeneration, authentication: authentication,
                                      outputs: outputs, goesLive: true)
            case .lost(let generation, let owner):
                network?.takeDown()
                log("lost the arbiter to '\(owner)' (generation \(generation)): stopping this VM")
                return .lostArbitration(generation: generation, owner: owner)
            }
        case .continue, .wait:
            preconditionFailure("the backup loop ends only when the role stops or goes live")
        }
    }

    /// Whether this node should boot the VM from its disks: the VM is at `state.generation`, this
    /// node was its primary then (the arbiter's owner), each of its disks is consistent at that
    /// generation (so it holds every write the VM made), and after twice the heartbeat timeout (time for a
    /// backup that outlived the primary to claim) the generation has not moved and no primary
    /// listens at the peer addresses. Both nodes stopped at once (a power cut, an operator) and
    /// this one came back: the guest boots again from its disk, as after a power cut.
    private func coldStartGeneration(_ state: (generation: UInt64, owner: String)) -> UInt64? {
        guard !disks.isEmpty, state.owner == configuration.nodeID,
              disks.allSatisfy({ disk in
                  disk.record.map { $0.state == .consistent && $0.generation == state.generation } ?? false
              }) else { return nil }
        log("this node was the primary of VM '\(configuration.vm)' at generation \(state.generation) and its \(disks.count > 1 ? "disks are" : "disk is") at that generation: waiting \(Int(2 * configuration.heartbeat.timeout * 1000)) ms for a live primary")
        usleep(UInt32(2 * configuration.heartbeat.timeout * 1_000_000))
        let again = blockingArbiterCall({ [arbiter, configuration] () async throws(ArbitrationError) -> (generation: UInt64, owner: String) in
            try await arbiter.current(vm: configuration.vm)
        })
        guard case .success(let now) = again, now.generation == state.generation, now.owner == state.owner else { return nil }
        for peer in configuration.peers where Node.accepts(peer) {
            log("a primary listens at \(peer): joining it")
            return nil
        }
        return state.generation
    }

    /// Whether something accepts a TCP connection at `endpoint` (a live primary's line).
    /// At most `timeout` seconds: the other host may be down (a connection to it would otherwise
    /// wait for TCP's own timeout, minutes, while the VM stays down).
    static func accepts(_ endpoint: Endpoint, timeout: Double = 1) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), first.pointee.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return false }
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) == 0 && failure == 0
    }

    /// Steps the backup until its primary is lost or it stops, on a thread of its own whose
    /// scheduling priority is lowered while it keeps up (``BackupPriority``), then returns on the
    /// caller's thread.
    ///
    /// Why: on a host that also runs the primary or other busy work, the backup's replay competes
    /// for the cores with the threads whose speed the guest's clients see: the primary's machine
    /// thread and both nodes' event loops, which carry the log and its acknowledgements (every
    /// output waits for one). The replay only needs to keep up on average, so it yields to them
    /// while it does, and takes its share back once it has been behind for a moment. It runs on
    /// its own thread so that the caller's thread, which continues as the live primary after a
    /// failover, keeps its priority (raising a priority back needs privileges).
    private func follow(_ role: BackupRole) -> BackupRole.Step {
        let box = FollowBox(role: role, doorbell: doorbell, bounded: statusFile != nil, lowersPriority: configuration.backupLowersPriority,
                            report: { [self] role in report(role.runtimeStatus(wallClock: Date().timeIntervalSince1970)) })
        let thread = Thread { [box] in
            box.run()   // at the priority BackupPriority chooses
        }
        thread.stackSize = 16 << 20
        thread.start()
        return box.waitForEnd()
    }

    private func runPrimary(machine: Machine, generation: UInt64, authentication: PeerAuthentication,
                            outputs: OutputDigest = OutputDigest(), goesLive: Bool = false) throws -> NodeOutcome {
        if let network {
            try network.start(onFrame: { [doorbell] in doorbell.ring() })
            log("network: \(network.summary)")
        }
        let link = PrimaryLink(authentication: authentication, heartbeat: configuration.heartbeat, doorbell: doorbell, log: log, group: group)
        let lines = try link.listen(on: configuration.listen.map(\.pair)).map { Endpoint(host: $0.host, port: UInt16($0.port)) }
        let console = try TCPConsole(host: configuration.console.host, port: configuration.console.port, group: group,
                                     onInput: { [doorbell] in doorbell.ring() })
        log("console on \(console.address); lines on " + lines.map(\.description).joined(separator: ", "))
        onLive?(generation, Int(console.port), lines)
        // Releases run on the event loop of the console's connections (the group has that one
        // loop), which writes each released output at once, right after it read the clock for
        // the lease; see ReleaseThread.
        let role = PrimaryRole(configuration: configuration, machine: machine, generation: generation, link: link,
                               console: console, network: network, disks: disks, announces: goesLive, log: log, clock: monotonicNow,
                               outputs: outputs, releaseThread: EventLoopReleaseThread(loop: group.next()))
        livePrimary.withLockedValue { $0 = role }
        let outcome = drive(role)
        livePrimary.withLockedValue { $0 = nil }
        console.close()
        link.shutdown()
        return outcome
    }

    /// Asks for a planned switchover to the backup (from any thread, e.g. a signal handler).
    /// Returns false when this node is not the live primary now.
    @discardableResult
    public func requestSwitchover() -> Bool {
        guard let role = livePrimary.withLockedValue({ $0 }) else { return false }
        role.requestSwitchover()
        doorbell.ring()
        return true
    }

    /// Steps the primary on this thread: waits on the doorbell when it has nothing to do, and
    /// asks the arbiter (blocking, retrying while unreachable) when it must claim.
    private func drive(_ role: PrimaryRole) -> NodeOutcome {
        while true {
            let ticket = doorbell.ticket
            var step = role.step()
            if case .claim(let expected) = step {
                step = role.claimed(claimGeneration(arbiter: arbiter, vm: configuration.vm, expected: expected,
                                                    owner: configuration.nodeID, log: log))
            }
            if case .finished = step { report(role.runtimeStatus(wallClock: Date().timeIntervalSince1970), force: true) }
            else { report(role.runtimeStatus(wallClock: Date().timeIntervalSince1970)) }
            switch step {
            case .continue, .claim: continue
            case .wait(let until): doorbell.wait(after: ticket, seconds: statusWait(until))
            case .finished(let outcome): return outcome
            }
        }
    }
}

extension Node {
    /// How long a role's loop may wait for `until`: at most the status file's interval when
    /// there is one (it is written on time even while the guest idles).
    func statusWait(_ until: Double) -> Double {
        let wait = until - monotonicNow()
        return statusFile == nil ? wait : min(wait, NodeStatusFile.interval)
    }
}

/// The backup's loop and its outcome, handed to the replay thread and back (the role and its
/// link are used by that thread alone until it ends; the caller waits for the end).
private final class FollowBox: @unchecked Sendable {
    let role: BackupRole
    let doorbell: Doorbell
    /// Hears the role after each step (the status file, the log's role).
    let report: (BackupRole) -> Void
    /// Whether waits are bounded by the status file's interval.
    let bounded: Bool
    /// `--backup-priority low`: ``BackupPriority`` lowers the replay while it keeps up.
    let lowersPriority: Bool
    private var ending: BackupRole.Step = .continue
    private let done = NSCondition()
    private var finished = false

    init(role: BackupRole, doorbell: Doorbell, bounded: Bool, lowersPriority: Bool, report: @escaping (BackupRole) -> Void) {
        self.lowersPriority = lowersPriority
        self.role = role
        self.doorbell = doorbell
        self.bounded = bounded
        self.report = report
    }

    func run() {
        var step: BackupRole.Step = .continue
        var priority = BackupPriorityControl()   // normal priority until the backup first catches up
        if lowersPriority {
            role.onProgress = { backlog in priority.update(backlog: backlog, now: monotonicNow()) }
        }
        defer { role.onProgress = nil }
        following: while true {
            let ticket = doorbell.ticket
            step = role.step()
            report(role)
            switch step {
            case .continue: continue
            case .wait(let until): doorbell.wait(after: ticket, seconds: min(until - monotonicNow(), bounded ? NodeStatusFile.interval : .infinity))
            case .primaryLost, .stopped: break following
            }
        }
        done.lock()
        ending = step
        finished = true
        done.signal()
        done.unlock()
    }

    func waitForEnd() -> BackupRole.Step {
        done.lock()
        while !finished { done.wait() }
        defer { done.unlock() }
        return ending
    }
}
