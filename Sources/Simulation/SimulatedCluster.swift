import Arbitration
import ELF
import LockstepSupport
import Machine
import Replay
@_spi(Simulation) import Replication

/// The whole cluster in one process under a virtual clock: two nodes running the real roles and
/// channel cores, the simulated lines between them, the arbiter, and a client writing to the
/// guest's key-value service. Every choice (delays, faults, client timing) comes from the seed;
/// every invariant is checked as the run goes (see docs/simulation.md).
public final class SimulatedCluster: ActionPerformer {
    /// How one run is set up.
    public struct Options {
        public var seed: UInt64
        /// The guest and its key-value service.
        public var guest: SimulatedGuest
        /// Faults are injected until this virtual time; then everything heals.
        public var faultPhase: Double = 3.0
        /// After the faults, the cluster must verify every acknowledged write within this long.
        public var livenessDeadline: Double = 8.0
        public var plantedBug: PlantedBug?
        /// Write each event of the run to this (the `--trace` of one seed).
        public var trace: ((String) -> Void)?

        public init(seed: UInt64, guest: SimulatedGuest) {
            self.seed = seed
            self.guest = guest
        }
    }

    /// What a run found.
    public struct Result: Sendable {
        public var seed: UInt64
        public var violations: [Violation]
        public var acknowledgedWrites: Int
        public var failovers: Int
        /// Planned switchovers completed (the old primary handed over).
        public var switchovers: Int = 0
        /// Guest reboots the client saw (the reboot fault).
        public var reboots: Int
        /// Keys read back missing that a reboot the client asked for but did not see may have
        /// erased (not violations; see ``SimulatedClient``).
        public var keysErasedByUnseenReboots: Int = 0
        public var faults: Int
        public var virtualSeconds: Double
    }

    let options: Options
    let queue = EventQueue()
    var random: SeededRandom
    let nodes: [SimulatedNode]
    var violations: [Violation] = []
    let heartbeat = HeartbeatSettings()
    /// The arbiter's table: generation and owner of the VM.
    var arbiter = (generation: UInt64(0), owner: "")
    var arbiterReachable = true
    /// Lines: up or down (both down: a partition).
    var lineUp = [true, true]
    /// Line faults currently active: extra delay, duplication, loss (black-holes a connection).
    var lineFault: [Int: LineFault] = [:]
    struct LineFault { var kind: String }
    struct Connection {
        var id: UInt64
        var lineIndex: Int
        var backup: SimulatedNode
        var backupIncarnation: UInt64
        var primary: SimulatedNode
        var primaryIncarnation: UInt64
        var open = true
        var blackholed = false
        /// When the last message in each direction arrives (TCP keeps order).
        var lastArrival: [Double] = [0, 0]
    }
    var connections: [UInt64: Connection] = [:]
    var nextConnection: UInt64 = 0
    /// Which node released output in each generation.
    var releasers: [UInt64: String] = [:]
    /// The newest generation whose output went out so far, and from which node.
    var newestOutput: (generation: UInt64, node: String)?
    let client: SimulatedClient
    var failovers = 0
    var switchovers = 0
    var faults = 0
    var faultsOver = false

    public var now: Double { queue.now }

    public init(options: Options) {
        self.options = options
        random = SeededRandom(seed: options.seed)
        nodes = [SimulatedNode(id: "A", index: 0), SimulatedNode(id: "B", index: 1)]
        client = SimulatedClient(dialect: options.guest.serviceDialect)
        client.cluster = self
        for node in nodes {
            node.loop = SimulatedLoop(queue: queue, node: node)
            node.console.loop = node.loop
            node.console.generation = { [unowned node] in
                if case .primary(let role, _) = node.state { return role.generation }
                return 0
            }
            node.console.onWrite = { [unowned self, unowned node] bytes, generation in
                checkOutputOrder(node, generation: generation)
                client.received(bytes, from: node)
            }
        }
    }

    func trace(_ line: @autoclosure () -> String) {
        options.trace?(String(format: "%9.4f ", now) + line())
    }

    func violate(_ kind: Violation.Kind, _ detail: String) {
        guard violations.count < 5 else { return }
        violations.append(Violation(kind: kind, time: now, detail: detail))
        trace("VIOLATION: \(kind.rawValue): \(detail)")
    }

    // MARK: Running

    /// Runs the seed to the end; the violations found.
    public func run() -> Result {
        for node in nodes { start(node, at: random.uniform(0...0.01)) }
        scheduleTicks()
        client.start()
        scheduleFaults()
        queue.schedule(at: options.faultPhase) { [unowned self] in healEverything() }
        queue.schedule(at: options.faultPhase + 0.5) { [unowned self] in client.beginVerification() }
        let end = options.faultPhase + options.livenessDeadline
        while violations.isEmpty, !client.verified, queue.runNext(until: end) {}
        if violations.isEmpty && !client.verified {
            violate(.noProgress, "the client could not verify its \(client.acknowledged.count) acknowledged writes within \(options.livenessDeadline) s of the faults stopping (\(client.progressReport))")
        }
        var result = Result(seed: options.seed, violations: violations, acknowledgedWrites: client.acknowledged.count,
                            failovers: failovers, reboots: client.rebootsSeen, faults: faults, virtualSeconds: now)
        result.keysErasedByUnseenReboots = client.keysErasedByAnUnseenReboot
        result.switchovers = switchovers
        return result
    }

    // MARK: Nodes

    func log(for node: SimulatedNode) -> NodeLog {
        // The simulation runs on one thread: the log's sink is only ever called from it.
        nonisolated(unsafe) let cluster = self
        let id = node.id
        return NodeLog(nodeID: id, sink: { line in
            guard let trace = cluster.options.trace else { return }
            trace(String(format: "%9.4f ", cluster.now) + "\(id): \(line)")
        })
    }

    func configuration(for node: SimulatedNode) -> NodeConfiguration {
        var configuration = NodeConfiguration(vm: "sim", nodeID: node.id, key: [1], listen: [], peers: [],
                                              console: Endpoint(host: "127.0.0.1", port: UInt16(node.index)))
        configuration.slice = options.guest.slice
        configuration.statisticsInterval = 1e9
        return configuration
    }

    var runnerSettings: LiveRunner.Settings {
        var settings = LiveRunner.Settings()
        settings.checkpointInterval = options.guest.checkpointInterval
        return settings
    }

    /// A fresh process: asks the arbiter whether the VM runs, then starts it or joins as backup.
    func start(_ node: SimulatedNode, at time: Double) {
        queue.schedule(at: time) { [unowned self] in
            guard !node.isAlive else { return }
            node.incarnation &+= 1
            node.claimPending = false
            node.freezeAfterStep = nil
            node.state = .starting
            node.heldTags = []
            trace("\(node.id): process starts")
            callArbiter(node) { [unowned self] in
                if arbiter.generation == 0 {
                    claim(node, expected: 0) { [unowned self] outcome in
                        if case .won(let generation) = outcome {
                            do {
                                let machine = try options.guest.makeMachine(seed: options.seed)
                                becomePrimary(node, machine: machine, generation: generation, outputs: OutputDigest())
                            } catch {
                                violate(.unexpectedStop, "cannot build the guest: \(error)")
                            }
                        } else {
                            becomeBackup(node)
                        }
                    }
                } else {
                    becomeBackup(node)
                }
            }
        }
    }

    func becomeBackup(_ node: SimulatedNode) {
        let link = SimulatedBackupLink(node: node, network: self, heartbeat: heartbeat)
        let role = BackupRole(configuration: configuration(for: node), link: link, log: log(for: node), clock: { [unowned self] in now })
        if options.plantedBug == .loseEntry { role.plantedBug = .loseEntry }
        node.state = .backup(role, link)
        trace("\(node.id): backup, connecting")
        wake(node)
    }

    func becomePrimary(_ node: SimulatedNode, machine: Machine, generation: UInt64, outputs: OutputDigest, goesLive: Bool = false) {
        let link = SimulatedPrimaryLink(node: node, network: self, vm: "sim", heartbeat: heartbeat)
        let role = PrimaryRole(configuration: configuration(for: node), machine: machine, generation: generation, link: link,
                               console: node.console, announces: goesLive, log: log(for: node), clock: { [unowned self] in now },
                               outputs: outputs, runnerSettings: runnerSettings, releaseThread: node.loop)
        if options.plantedBug == .releaseBeforeAck { role.plantedBug = .releaseBeforeAck }
        node.heldTags = []
        // The gate joins console bytes with the same tag into one output: count outputs as it does.
        var lastWasConsole = false
        role.onHold = { [unowned node] output, tag in
            let console: Bool
            if case .console(let bytes) = output { console = true; if bytes.isEmpty { return } } else { console = false }
            if console && lastWasConsole && node.heldTags.last == tag { return }
            lastWasConsole = console
            node.heldTags.append(tag)
        }
        role.onRelease = { [unowned self, unowned node, unowned link] outputs, generation in
            checkRelease(node, link: link, count: outputs.count, generation: generation)
        }
        node.state = .primary(role, link)
        trace("\(node.id): live primary at generation \(generation)")
        client.primaryChanged()
        wake(node)
    }

    /// The output rule, checked on every release against the tags the gate was given.
    func checkRelease(_ node: SimulatedNode, link: SimulatedPrimaryLink, count: Int, generation: UInt64) {
        let status = link.status
        let tags = node.heldTags.prefix(count)
        node.heldTags.removeFirst(min(count, node.heldTags.count))
        if status.hasBackup || status.backupLost, let latest = tags.max(), latest > status.acknowledged {
            violate(.outputBeforeAcknowledgement, "\(node.id) released an output that depends on entry \(latest); the backup acknowledged \(status.acknowledged)")
        }
        if let other = releasers[generation], other != node.id {
            violate(.twoReleasersInOneGeneration, "\(node.id) and \(other) both released output in generation \(generation)")
        }
        releasers[generation] = node.id
    }

    /// Output as it goes out to the client: never an older generation's after a newer one's (an
    /// old primary writing after the node that replaced it began to).
    func checkOutputOrder(_ node: SimulatedNode, generation: UInt64) {
        if let newest = newestOutput, generation < newest.generation {
            violate(.outputAfterNewerGeneration, "\(node.id) wrote output of generation \(generation) after \(newest.node) wrote output of generation \(newest.generation)")
        }
        if generation > newestOutput?.generation ?? 0 { newestOutput = (generation, node.id) }
    }

    /// Schedules a step of the node at `time` (now by default), replacing a later one.
    func wake(_ node: SimulatedNode, at time: Double? = nil) {
        let at = max(time ?? now, now)
        if let scheduled = node.stepScheduledAt, scheduled <= at { return }
        node.stepToken &+= 1
        let token = node.stepToken, incarnation = node.incarnation
        node.stepScheduledAt = at
        queue.schedule(at: at) { [unowned self] in
            guard node.stepToken == token, node.incarnation == incarnation else { return }
            node.stepScheduledAt = nil
            if let thaw = node.frozenUntil, thaw > now { return wake(node, at: thaw) }
            step(node)
        }
    }

    /// One step of the node's role; the virtual time it took is the instructions it executed.
    func step(_ node: SimulatedNode) {
        guard !node.claimPending else { return }
        switch node.state {
        case .primary(let role, _):
            let before = role.machine.instructionCount
            let result = role.step()
            if let freeze = node.freezeAfterStep, node.loop.queued > 0 || now >= freeze.latest {
                node.freezeAfterStep = nil
                node.frozenUntil = now + freeze.length
                trace("\(node.id): frozen")
            }
            let cost = max(1e-5, Double(role.machine.instructionCount &- before) / 200e6)
            switch result {
            case .continue: wake(node, at: now + cost)
            case .wait(let until): wake(node, at: max(until, now + cost))
            case .claim(let expected):
                node.claimPending = true
                claim(node, expected: expected) { [unowned self] outcome in
                    node.claimPending = false
                    guard case .primary(let current, _) = node.state, current === role else { return }
                    if case .finished(let outcome) = role.claimed(outcome) { stop(node, outcome) } else { wake(node) }
                }
            case .finished(let outcome):
                stop(node, outcome)
            }
        case .backup(let role, _):
            let before = role.machine?.instructionCount ?? 0
            let result = role.step()
            let cost = max(1e-5, Double((role.machine?.instructionCount ?? 0) &- before) / 200e6)
            switch result {
            case .continue: wake(node, at: now + cost)
            case .wait(let until): wake(node, at: max(until, now + cost))
            case .primaryLost(let machine, let generation, let outputs):
                node.state = .claimingToGoLive(machine, generation: generation, outputs: outputs)
                claim(node, expected: generation) { [unowned self] outcome in
                    guard case .claimingToGoLive = node.state else { return }
                    switch outcome {
                    case .won(let newGeneration):
                        failovers += 1
                        becomePrimary(node, machine: machine, generation: newGeneration, outputs: outputs, goesLive: true)
                    case .lost(let current, let owner):
                        if options.plantedBug == .twoPrimaries {
                            // Planted: go live although another node won.
                            becomePrimary(node, machine: machine, generation: current, outputs: outputs, goesLive: true)
                        } else {
                            stop(node, .lostArbitration(generation: current, owner: owner))
                        }
                    }
                }
            case .stopped(let outcome):
                stop(node, outcome)
            }
        default:
            break
        }
    }

    func stop(_ node: SimulatedNode, _ outcome: NodeOutcome) {
        trace("\(node.id): stops: \(outcome)")
        if case .handedOver = outcome { switchovers += 1 }
        if case .diverged(let report) = outcome { violate(.divergence, "\(node.id): \(report)") }
        if case .guestExited = outcome { violate(.unexpectedStop, "\(node.id): the guest powered off") }
        if case .guestReset = outcome { violate(.unexpectedStop, "\(node.id): the guest's reboot stopped the node") }
        closeConnections(of: node, notifyPeer: true)
        node.state = .stopped(outcome)
        client.primaryChanged()
        // An agent restarts a stopped node after a while (it rejoins as a backup).
        node.state = .down
        start(node, at: now + random.uniform(0.2...0.6))
    }

    // MARK: The arbiter

    func callArbiter(_ node: SimulatedNode, _ body: @escaping () -> Void) {
        let incarnation = node.incarnation
        queue.schedule(after: random.uniform(0.0005...0.003)) { [unowned self] in
            guard node.incarnation == incarnation else { return }
            if !arbiterReachable { return callArbiter(node, body) }
            body()
        }
    }

    func claim(_ node: SimulatedNode, expected: UInt64, _ done: @escaping (ArbitrationOutcome) -> Void) {
        let incarnation = node.incarnation
        queue.schedule(after: random.uniform(0.0005...0.003)) { [unowned self] in
            guard node.incarnation == incarnation, node.isAlive else { return }
            if !arbiterReachable {
                queue.schedule(after: 0.2) { [unowned self] in claim(node, expected: expected, done) }
                return
            }
            let outcome: ArbitrationOutcome
            if arbiter.generation == expected {
                arbiter = (expected + 1, node.id)
                outcome = .won(generation: expected + 1)
            } else {
                outcome = .lost(generation: arbiter.generation, owner: arbiter.owner)
            }
            trace("\(node.id): claim \(expected) -> \(expected + 1): \(outcome)")
            queue.schedule(after: random.uniform(0.0005...0.003)) { [unowned self] in
                guard node.incarnation == incarnation else { return }
                if let thaw = node.frozenUntil, thaw > now {
                    queue.schedule(at: thaw) { done(outcome) }
                } else {
                    done(outcome)
                }
            }
        }
    }

    // MARK: The network

    func scheduleTicks() {
        queue.schedule(after: heartbeat.interval) { [unowned self] in
            for node in nodes where node.frozenUntil.map({ $0 <= now }) ?? true {
                if let link = node.primaryLink { perform(link.core.tick(now: now), from: node) }
                if let link = node.backupLink { perform(link.core.tick(now: now), from: node) }
            }
            scheduleTicks()
        }
    }

    func perform(_ actions: [LinkAction], from node: SimulatedNode) {
        for action in actions {
            switch action {
            case .send(let line, let messages):
                for message in messages { send(message, on: line, from: node) }
            case .close(let line):
                close(line.connection, notifyPeer: true)
            case .refuse(let line, let reason):
                send(.refuse(reason), on: line, from: node)
                close(line.connection, notifyPeer: true)
            case .connect(let index):
                connect(node, lineIndex: index)
            case .ring:
                wake(node)
            case .log(let line):
                trace("\(node.id): \(line)")
            }
        }
    }

    func peer(of node: SimulatedNode) -> SimulatedNode { nodes[1 - node.index] }

    func connect(_ backup: SimulatedNode, lineIndex: Int) {
        let primary = peer(of: backup)
        let delay = random.uniform(0.0002...0.002)
        let incarnation = backup.incarnation
        guard lineUp[lineIndex], primary.primaryLink != nil, primary.frozenUntil.map({ $0 <= now }) ?? true else {
            queue.schedule(after: delay + 0.05) { [unowned self] in
                guard backup.incarnation == incarnation else { return }
                backup.backupLink?.core.connectionEnded(lineIndex: lineIndex)
            }
            return
        }
        nextConnection += 1
        let connection = Connection(id: nextConnection, lineIndex: lineIndex, backup: backup, backupIncarnation: backup.incarnation,
                                    primary: primary, primaryIncarnation: primary.incarnation)
        connections[connection.id] = connection
        let line = LineID(index: lineIndex, connection: connection.id)
        queue.schedule(after: delay) { [unowned self] in
            guard let c = connections[connection.id], c.open else { return }
            if primary.incarnation == c.primaryIncarnation, let link = primary.primaryLink {
                perform(link.core.lineAuthenticated(line, peerNodeID: backup.id, now: now), from: primary)
            }
            if backup.incarnation == c.backupIncarnation, let link = backup.backupLink {
                perform(link.core.lineAuthenticated(line, peerNodeID: primary.id, now: now), from: backup)
            }
        }
    }

    func send(_ message: ReplicationMessage, on line: LineID, from sender: SimulatedNode) {
        guard var connection = connections[line.connection], connection.open, !connection.blackholed else { return }
        let toPrimary = connection.backup === sender
        let receiver = toPrimary ? connection.primary : connection.backup
        let receiverIncarnation = toPrimary ? connection.primaryIncarnation : connection.backupIncarnation
        guard lineUp[line.index] else {
            // A line that is down loses the stream, as a TCP connection across it stalls: nothing
            // sent on this connection arrives any more (it is closed by silence and reopened).
            connection.blackholed = true
            connections[line.connection] = connection
            return
        }
        var copies = 1
        var delay = random.uniform(0.00005...0.0005)
        if let fault = lineFault[line.index] {
            switch fault.kind {
            case "delay": delay += random.uniform(0.001...0.05)
            case "duplicate": if random.chance(0.2) { copies = 2 }
            case "loss": if random.chance(0.05) { connection.blackholed = true; connections[line.connection] = connection; return }
            case "reorder": if random.chance(0.2) { delay += 0.002 }
            default: break
            }
        }
        let direction = toPrimary ? 0 : 1
        var arrival = now + delay
        if lineFault[line.index]?.kind != "reorder" { arrival = max(arrival, connection.lastArrival[direction]) }
        connection.lastArrival[direction] = arrival
        connections[line.connection] = connection
        for _ in 0..<copies {
            queue.schedule(at: arrival) { [unowned self] in deliver(message, on: line, to: receiver, incarnation: receiverIncarnation) }
        }
    }

    func deliver(_ message: ReplicationMessage, on line: LineID, to node: SimulatedNode, incarnation: UInt64) {
        guard node.incarnation == incarnation, let connection = connections[line.connection], connection.open else { return }
        if let thaw = node.frozenUntil, thaw > now {
            queue.schedule(at: thaw) { [unowned self] in deliver(message, on: line, to: node, incarnation: incarnation) }
            return
        }
        if let link = node.primaryLink {
            // The link's messages are taken in on the node's event loop, as on real sockets: an
            // acknowledgement releases the outputs it covers at once, there.
            node.loop.inside {
                if case .refuse(let reason) = message { return perform(link.core.refused(line, reason: reason, now: now), from: node) }
                perform(link.core.received(message, on: line, now: now), from: node)
                if case .ack = message { link.onAcknowledged?() }
            }
        } else if let link = node.backupLink {
            if case .refuse(let reason) = message { perform(link.core.refused(line, reason: reason, now: now), from: node); return }
            var actions = link.core.received(message, on: line, now: now)
            actions += link.core.readComplete(on: line, now: now)
            perform(actions, from: node)
        }
    }

    func close(_ id: UInt64, notifyPeer: Bool) {
        guard var connection = connections[id], connection.open else { return }
        connection.open = false
        connections[id] = connection
        let line = LineID(index: connection.lineIndex, connection: id)
        queue.schedule(after: random.uniform(0.0001...0.001)) { [unowned self] in
            let primary = connection.primary, backup = connection.backup
            if primary.incarnation == connection.primaryIncarnation, let link = primary.primaryLink {
                perform(link.core.lineClosed(line, now: now), from: primary)
            }
            if backup.incarnation == connection.backupIncarnation, let link = backup.backupLink {
                perform(link.core.lineClosed(line, now: now), from: backup)
                link.core.connectionEnded(lineIndex: connection.lineIndex)
            }
        }
    }

    func closeConnections(of node: SimulatedNode, notifyPeer: Bool) {
        for (id, connection) in connections where connection.open && (connection.primary === node || connection.backup === node) {
            if notifyPeer {
                close(id, notifyPeer: true)
            } else {
                var dead = connection
                dead.open = false   // a crashed host says nothing: its peer hears only silence
                connections[id] = dead
            }
        }
    }

    // MARK: Faults

    func scheduleFaults() {
        var time = random.uniform(0.2...0.5)
        while time < options.faultPhase - 0.3 {
            let at = time
            queue.schedule(at: at) { [unowned self] in injectFault() }
            time += random.uniform(0.25...0.8)
        }
    }

    func injectFault() {
        guard !faultsOver else { return }
        faults += 1
        let live = nodes.filter(\.isAlive)
        // The reboot fault exists where the guest's service can be asked to reboot.
        switch random.below(options.guest.serviceDialect.reboot == nil ? 10 : 11) {
        case 0:
            // One failure at a time: the only node holding the machine is not crashed (losing
            // both copies is outside what any replication can survive).
            let candidates = live.filter { node in
                switch node.state {
                // A primary only while its backup holds the state and the primary counts on it (a
                // primary that forgot a lost backup, or whose snapshot is still in flight, is the only copy).
                case .primary(_, let link):
                    guard link.status.hasBackup, case .backup(let role, _) = peer(of: node).state else { return false }
                    return role.machine != nil
                case .backup: return peer(of: node).isLivePrimary
                case .starting: return true
                default: return false
                }
            }
            guard let victim = candidates.randomElement(using: &random) else { return }
            trace("FAULT: \(victim.id) crashes")
            crash(victim)
            start(victim, at: now + random.uniform(0.1...0.5))
        case 1:
            guard let victim = live.randomElement(using: &random) else { return }
            let length = random.uniform(0.05...0.8)
            if victim.isLivePrimary {
                // As a step of its machine thread ends with work handed to the event loop (a
                // release, or output to write), which the stop catches still queued: where a
                // release decided before the stop could go out after it, once a new primary
                // has written (outputAfterNewerGeneration).
                trace("FAULT: \(victim.id) freezes for \(length) s once its event loop has work queued")
                victim.freezeAfterStep = (length, now + 0.3)
            } else {
                trace("FAULT: \(victim.id) freezes for \(length) s")
                victim.frozenUntil = now + length
            }
        case 2:
            let index = Int(random.below(2))
            trace("FAULT: line \(index + 1) down")
            lineUp[index] = false
            queue.schedule(after: random.uniform(0.1...0.6)) { [unowned self] in lineUp[index] = true; trace("line \(index + 1) up") }
        case 3:
            trace("FAULT: partition (both lines down)")
            lineUp = [false, false]
            queue.schedule(after: random.uniform(0.1...0.8)) { [unowned self] in lineUp = [true, true]; trace("partition healed") }
        case 4:
            trace("FAULT: the arbiter is unreachable")
            arbiterReachable = false
            queue.schedule(after: random.uniform(0.1...0.8)) { [unowned self] in arbiterReachable = true; trace("the arbiter is back") }
        case 9:
            // A planned switchover (`lockstep vm switchover`), asked at any moment: the primary
            // refuses it without a backup in step, and faults may strike while it runs.
            guard let primary = live.first(where: \.isLivePrimary), case .primary(let role, _) = primary.state else { return }
            trace("FAULT: an operator asks \(primary.id) for a switchover")
            role.requestSwitchover()
            wake(primary)
        case 10:
            if client.requestReboot() { trace("FAULT: the client asks the guest to reboot") }
        default:
            let index = Int(random.below(2))
            let kind = ["delay", "duplicate", "loss", "reorder"][Int(random.below(4))]
            trace("FAULT: line \(index + 1): \(kind)")
            lineFault[index] = LineFault(kind: kind)
            queue.schedule(after: random.uniform(0.1...0.6)) { [unowned self] in lineFault[index] = nil }
        }
    }

    func crash(_ node: SimulatedNode) {
        closeConnections(of: node, notifyPeer: false)
        node.incarnation &+= 1
        node.state = .down
        node.frozenUntil = nil
        node.freezeAfterStep = nil
        node.stepScheduledAt = nil
        node.heldTags = []
        node.claimPending = false
        client.primaryChanged()
    }

    func healEverything() {
        faultsOver = true
        trace("faults stop: every line up, the arbiter reachable, dead nodes restart")
        lineUp = [true, true]
        lineFault = [:]
        arbiterReachable = true
        for node in nodes {
            node.frozenUntil = nil
            node.freezeAfterStep = nil
            if !node.isAlive { start(node, at: now + 0.01) }
        }
    }
}

extension Array {
    func randomElement(using random: inout SeededRandom) -> Element? {
        isEmpty ? nil : self[Int(random.below(UInt64(count)))]
    }
}
