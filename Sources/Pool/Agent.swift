import Etcd
import Foundation
import HostIO
import Logging
import Replication
import Synchronization

/// `lockstep agent`: one per host of a pool. It registers the host in etcd under a lease, runs the
/// `lockstep node`s that the VMs' placements put on this host (and stops those they no longer
/// do), reports what each does, and, while it is the pool's leader, places the VMs
/// (``PoolScheduler``): a VM that lost a host gets a new one at once, and its node there joins the
/// survivor by live copy. docs/pool.md.
public final class Agent: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var host: HostRecord
        /// The etcd members' client URLs, as given (passed on to the nodes as `--etcd`).
        public var etcdURLs: String
        /// Where the VMs' disks and node logs go.
        public var dataDirectory: String
        /// The `lockstep` executable the nodes run.
        public var lockstep: String
        /// The pool's shared key file (every node's `--key-file`).
        public var keyFile: String
        /// The host's lease in etcd (seconds): a host silent this long is gone.
        public var leaseSeconds = 3
        /// Seconds between rounds.
        public var interval = 0.25
        /// More arguments for every node (heartbeat settings, statistics); `{vm}` in one is
        /// replaced by the node's VM's name (`--release-log /var/log/lockstep/{vm}.release`).
        public var nodeArguments: [String] = []
        /// What the leader does about the VMs' health (``HealthPolicy``; on by default).
        public var healthPolicy = HealthPolicy.Settings()

        public init(host: HostRecord, etcdURLs: String, dataDirectory: String, lockstep: String, keyFile: String) {
            self.host = host
            self.etcdURLs = etcdURLs
            self.dataDirectory = dataDirectory
            self.lockstep = lockstep
            self.keyFile = keyFile
        }
    }

    public let configuration: Configuration
    let store: PoolStore
    /// The agent's records (label `agent`, metadata `host`, and `vm` for a VM's).
    let logger: Logger
    private var lease: Int64 = 0
    /// The lease, for the renewal task; and whether that task found it expired.
    private let leaseID = Mutex<Int64>(0)
    private let leaseExpired = Mutex(false)
    private var leaseNow: Int64? { leaseID.withLock { $0 } }
    /// Nodes being stopped (SIGTERM sent), until they end.
    private var retiring: [NodeSupervisor] = []
    private var leading = false
    /// The health policy's state while this agent leads (a new leader starts it again).
    private var policy: HealthPolicy?
    private var nodes: [String: NodeSupervisor] = [:]
    private var reported: [String: NodeStatus] = [:]
    private var probers: [String: ServiceProber] = [:]
    /// The first report of each VM's node that named a lost peer: the peer and the report's
    /// etcd revision (``NodeStatus/lostPeerRevision``).
    private var lostPeerReports: [String: (peer: String, revision: Int64)] = [:]
    /// Switchover requests already passed to a node (by request id).
    private var switchoversSignalled: Set<String> = []
    /// What this agent saw in its last round, for its metrics and status page.
    private let view = Mutex(PoolView())
    /// The pool as this agent saw it in its last round (``PoolView``).
    public var latestView: PoolView { view.withLock { $0 } }

    public init(configuration: Configuration, store: PoolStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    /// One record of the agent's, about the VM `vm` if given.
    func log(_ message: String, vm: String? = nil) {
        logger.info("\(message)", metadata: vm.map { ["vm": "\($0)"] })
    }

    /// Runs until the task is cancelled; stops every node it started on the way out.
    public func run() async {
        defer {
            for node in nodes.values { node.stopAndWait() }
            for node in retiring { node.stopAndWait() }
            for prober in probers.values { prober.stop() }
        }
        // The lease is renewed on its own task, so that a slow round (a busy host, a slow etcd
        // request) does not let it expire while the host is alive.
        let renewal = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(max(250, configuration.leaseSeconds * 1000 / 4)))
                if let lease = leaseNow, lease != 0 {
                    let ttl = try? await store.client.keepAlive(lease: lease)
                    if ttl == 0 { leaseExpired.withLock { $0 = true } }
                }
            }
        }
        defer { renewal.cancel() }
        var lastError = ""
        while !Task.isCancelled {
            do throws(PoolError) {
                try await round()
                if !lastError.isEmpty { log("etcd answers again"); lastError = "" }
            } catch {
                let text = "\(error)"
                if text != lastError { log("\(text); retrying") }
                lastError = text
            }
            try? await Task.sleep(for: .milliseconds(Int(configuration.interval * 1000)))
        }
    }

    /// One round: renew the lease, lead if nobody does, run what is placed here, report. Each
    /// step decides from one read of the whole pool (``PoolSnapshot``); the leader reads again
    /// after placing, so that this host runs what it just placed.
    func round() async throws(PoolError) {
        try await renewLease()
        if try await store.campaign(configuration.host.name, lease: lease) {
            if !leading { log("leading the pool: placing VMs") }
            leading = true
            try await place(try await store.snapshot())
        } else {
            leading = false
            policy = nil
        }
        try await superviseNodes(try await store.snapshot())
        try await replaceLostPeers()
    }

    private func renewLease() async throws(PoolError) {
        if lease != 0 {
            let expired = leaseExpired.withLock { let value = $0; $0 = false; return value }
            if !expired { return }
            log("the host's lease expired (etcd did not hear from it for \(configuration.leaseSeconds) s): registering again")
            reported = [:]
        }
        do { lease = try await store.client.grantLease(ttl: configuration.leaseSeconds).id } catch { throw .etcd(error) }
        leaseID.withLock { $0 = lease }
        try await store.register(configuration.host, lease: lease)
        log("registered host '\(configuration.host.name)' (\(configuration.host.address), \(configuration.host.memoryMiB) MiB)")
    }

    /// The leader's work: new placements where hosts are gone, VMs are new, hosts are drained or
    /// backups asked to move; switchovers for primaries on drained hosts, and those the health
    /// policy decides.
    private func place(_ snapshot: PoolSnapshot) async throws(PoolError) {
        let hosts = snapshot.hosts, state = snapshot.state, drained = snapshot.drained
        let primaries = state.primaries
        let suspects = try await applyHealthPolicy(state, hosts: hosts, drained: drained, stored: snapshot.suspects)
        let decision = PoolScheduler.decide(hosts: hosts, vms: state.specs, placements: state.placements, primaries: primaries,
                                            protected: state.protected, drained: drained, moves: state.moves, lostPeers: state.lostPeers,
                                            suspect: suspects)
        for vm in decision.switchovers.sorted() where state.switchoverFrom[vm] == nil {
            log("VM '\(vm)': its primary's host \(primaries[vm] ?? "?") is drained: switching over", vm: vm)
            try await store.requestSwitchover(vm: vm, from: primaries[vm] ?? "")
        }
        for (vm, request) in state.switchoverFrom where primaries[vm].map({ $0 != request.host }) ?? false {
            try await store.clearSwitchover(vm: vm)   // done: the primary is elsewhere
        }
        for (vm, target) in state.moves where state.placements[vm]?.hosts.contains(target) ?? false || !state.specs.contains(where: { $0.name == vm }) {
            try await store.clearMove(vm: vm)   // done (or the VM is gone)
        }
        let changes = decision.placements
        for (vm, placement) in changes.sorted(by: { $0.key < $1.key }) {
            let before = state.placements[vm]?.hosts ?? []
            if try await store.setPlacement(placement, vm: vm, ifRevision: state.placementRevisions[vm] ?? 0) {
                let reason = placement.waiting.map { " (waiting: \($0))" } ?? ""
                log("VM '\(vm)': placed on \(placement.hosts.joined(separator: ", ")), was \(before.isEmpty ? "nowhere" : before.joined(separator: ", "))\(reason)", vm: vm)
            }
        }
    }

    /// Re-places the VMs whose live primary runs here and declared its peer lost, when this agent
    /// does not lead (rule 6 without the leader): the lost host may have been the leader, whose
    /// leadership key outlives it by its lease (seconds during which nothing would be placed).
    /// The choice is the scheduler's, as the leader's would be, and the write is conditional on
    /// the placement's revision, as the leader's is: whichever writes first wins, and the other
    /// sees the new placement in its next round.
    private func replaceLostPeers() async throws(PoolError) {
        guard !leading, nodes.values.contains(where: { $0.isLivePrimary && $0.lostPeer != nil }) else { return }
        // Read again: this round's reports (the loss declared) are in etcd now.
        let snapshot = try await store.snapshot()
        let state = snapshot.state
        let mine = state.lostPeers.filter { vm, lost in
            nodes[vm].map { $0.isLivePrimary && $0.lostPeer == lost } ?? false && state.placements[vm]?.hosts.contains(lost) ?? false
        }
        guard !mine.isEmpty else { return }
        let decision = PoolScheduler.decide(hosts: snapshot.hosts, vms: state.specs, placements: state.placements, primaries: state.primaries,
                                            protected: state.protected, drained: snapshot.drained, moves: state.moves, lostPeers: state.lostPeers,
                                            suspect: Set(snapshot.suspects.keys))
        for (vm, lost) in mine.sorted(by: { $0.key < $1.key }) {
            guard let placement = decision.placements[vm] else { continue }
            if try await store.setPlacement(placement, vm: vm, ifRevision: state.placementRevisions[vm] ?? 0) {
                log("VM '\(vm)': placed on \(placement.hosts.joined(separator: ", ")) by its primary's host (its peer \(lost) was declared lost)", vm: vm)
            }
        }
    }

    /// Feeds the health policy this round's reports and carries out its actions, each logged and
    /// stored with its reason; returns the suspect hosts. A VM whose primary is on a drained host
    /// or that has a switchover pending is the drain's or the request's, not the policy's.
    private func applyHealthPolicy(_ state: PoolStore.VMState, hosts: [HostRecord], drained: Set<String>,
                                   stored: [String: String]) async throws(PoolError) -> Set<String> {
        let now = Date().timeIntervalSince1970
        var policy = self.policy ?? HealthPolicy(settings: configuration.healthPolicy, suspects: stored)
        let primaries = state.primaries, backups = state.backups, protected = state.protected
        let vms = state.specs.map { spec in
            let primary = primaries[spec.name]
            var vm = HealthPolicy.VM(name: spec.name, primary: primary, backup: protected.contains(spec.name) ? backups[spec.name] : nil,
                                     health: state.nodes[spec.name]?.first(where: { $0.host == primary })?.health,
                                     thresholdMilliseconds: spec.probe?.thresholdMilliseconds ?? 100)
            vm.switchoverAllowed = spec.healthSwitchover ?? true
            vm.switchoverPending = state.switchoverFrom[spec.name] != nil || primary.map(drained.contains) ?? false
            vm.lastHealthSwitchover = state.healthActions[spec.name]?.switchover?.time
            return vm
        }
        let actions = policy.decide(vms: vms, hosts: Set(hosts.map(\.name)), now: now)
        self.policy = policy
        for action in actions {
            switch action {
            case .switchover(let vm, let from, let to, let reason):
                log("VM '\(vm)': health: switching over from \(from) to \(to): \(reason)")
                var record = state.healthActions[vm] ?? HealthActions()
                record.switchover = HealthActions.Entry(time: now, text: "switched over from \(from) to \(to): \(reason)")
                try await store.setHealthActions(record, vm: vm)
                try await store.requestSwitchover(vm: vm, from: from)
            case .hold(let vm, let reason):
                log("VM '\(vm)': health: \(reason)")
                var record = state.healthActions[vm] ?? HealthActions()
                record.held = HealthActions.Entry(time: now, text: reason)
                try await store.setHealthActions(record, vm: vm)
            case .suspect(let host, let reason):
                log("host \(host) is suspect: \(reason); it takes no new backups and its primaries are switched over")
            case .cleared(let host, let reason):
                log("host \(host) is no longer suspect: \(reason)")
            }
        }
        for (host, reason) in policy.suspects where stored[host] != reason { try await store.setSuspect(host, reason: reason) }
        for host in stored.keys where policy.suspects[host] == nil { try await store.setSuspect(host, reason: nil) }
        return Set(policy.suspects.keys)
    }

    /// Starts, keeps and stops this host's nodes to match the placements, and reports them.
    private func superviseNodes(_ snapshot: PoolSnapshot) async throws(PoolError) {
        let hostList = snapshot.hosts
        let hosts = Dictionary(hostList.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let state = snapshot.state, drained = snapshot.drained, suspects = snapshot.suspects
        view.withLock { $0.update(host: configuration.host.name, leading: leading, hosts: hostList, state: state, drained: drained, suspects: suspects) }
        let me = configuration.host.name
        let now = Date().timeIntervalSince1970
        var placedHere: Set<String> = []
        var local: [String: LocalNode] = [:]
        defer { view.withLock { $0.local = local } }
        for spec in state.specs {
            guard let placement = state.placements[spec.name], placement.hosts.contains(me) else { continue }
            placedHere.insert(spec.name)
            let peerName = placement.hosts.first { $0 != me }
            let peerAddress = peerName.flatMap { hosts[$0]?.address }
            let supervisor = nodes[spec.name] ?? NodeSupervisor(vm: spec.name, logURL: logURL(spec.name), statusURL: statusURL(spec.name))
            nodes[spec.name] = supervisor
            if !supervisor.isRunning, peerName != nil, peerAddress == nil, state.generations[spec.name] != nil {
                // The peer is placed but not registered (a host coming back): wait for the leader to move it.
                continue
            }
            do {
                let arguments = try nodeArguments(spec, peer: peerAddress, first: state.generations[spec.name] == nil,
                                                  fullResync: supervisor.needsFullResync)
                supervisor.ensureRunning(executable: configuration.lockstep, arguments: arguments, peer: peerAddress, now: now)
            } catch {
                log("VM '\(spec.name)': cannot prepare its node: \(error)", vm: spec.name)
            }
            supervisor.refresh()
            let unfinished = supervisor.takeUnfinishedSwitchover()
            if let request = state.switchoverFrom[spec.name].map({ "\(spec.name)@\($0.revision)" }), supervisor.status == .primary {
                if let unfinished, switchoversSignalled.remove(request) != nil {
                    // A backup far behind (a loaded host) does not catch up in the pause: the
                    // request stands, so the node is asked again.
                    log("VM '\(spec.name)': the node did not hand over (\(unfinished.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? unfinished)): asking again", vm: spec.name)
                }
                if !switchoversSignalled.contains(request) {
                    switchoversSignalled.insert(request)
                    log("VM '\(spec.name)': switchover asked: signalling the primary", vm: spec.name)
                    supervisor.requestSwitchover()
                }
            }
            let health = probe(spec, live: supervisor.status == .primary || supervisor.status == .primaryAlone)
            var status = NodeStatus(host: me, role: supervisor.status, detail: supervisor.detail, updated: now, health: health,
                                    lostPeer: supervisor.isLivePrimary ? supervisor.lostPeer : nil,
                                    lostPeerSince: supervisor.isLivePrimary ? supervisor.lostPeerSince : nil)
            status.copy = supervisor.isRunning ? supervisor.runtime?.copy?.progress.map { ($0 * 100).rounded() / 100 } : nil
            if let first = lostPeerReports[spec.name], first.peer == status.lostPeer { status.lostPeerRevision = first.revision }
            local[spec.name] = LocalNode(supervisor)
            if Self.mustReport(status, last: reported[spec.name], now: now) {
                let revision = try await store.report(status, vm: spec.name, lease: lease)
                if let peer = status.lostPeer {
                    if status.lostPeerRevision == nil { lostPeerReports[spec.name] = (peer, revision) }
                } else {
                    lostPeerReports[spec.name] = nil
                }
                if reported[spec.name]?.role != status.role { log("VM '\(spec.name)': node \(status.role.rawValue)", vm: spec.name) }
                reported[spec.name] = status
            }
        }
        for (vm, supervisor) in nodes where !placedHere.contains(vm) {
            let declared = state.specs.contains { $0.name == vm }
            supervisor.refresh()
            if declared && supervisor.isLivePrimary {
                // The VM's live primary is never stopped for a placement: it may have gone live
                // after the placement was decided (its primary's host died meanwhile). The
                // leader puts its host back into the placement.
                continue
            }
            probers.removeValue(forKey: vm)?.stop()
            log("VM '\(vm)' is \(declared ? "no longer placed here" : "deleted"): stopping its node", vm: vm)
            supervisor.stop()
            retiring.append(supervisor)
            nodes[vm] = nil
            reported[vm] = nil
            lostPeerReports[vm] = nil
            try? await store.clearReport(vm: vm, host: me)
        }
        retiring.removeAll { $0.finishStopping(now: now) }
    }

    /// Whether `status` goes to etcd (etcd traffic per VM is a benchmark figure): at once when
    /// the role changes, a copy begins or ends, or the service's health changes state; a changed
    /// detail or copy progress, and a probed service's latencies, at most every 2 s.
    static func mustReport(_ status: NodeStatus, last: NodeStatus?, now: Double) -> Bool {
        guard let last else { return true }
        if last.role != status.role || (last.copy == nil) != (status.copy == nil) || last.lostPeer != status.lostPeer
            || (last.health == nil) != (status.health == nil) || last.health?.state != status.health?.state
            || last.health?.isSlowNow != status.health?.isSlowNow { return true }
        guard now - last.updated >= 2 else { return false }
        return last.detail != status.detail || last.copy != status.copy || status.health != nil
    }

    /// The service's health while the VM's primary is on this host (probing starts and stops with it).
    private func probe(_ spec: VMSpec, live: Bool) -> ServiceHealth? {
        guard live, var probe = spec.probe else {
            probers.removeValue(forKey: spec.name)?.stop()
            return nil
        }
        if probe.kind == .console {
            probe.address = configuration.host.address
            probe.port = spec.basePort + 2
        }
        if let prober = probers[spec.name], prober.spec == probe { return prober.health }
        probers[spec.name]?.stop()
        let prober = ServiceProber(spec: probe)
        probers[spec.name] = prober
        return prober.health
    }

    private func logURL(_ vm: String) -> URL {
        URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("\(vm).log")
    }

    /// The node's `--status-file`: DATA/VM.status.json.
    func statusURL(_ vm: String) -> URL {
        URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("\(vm).status.json")
    }

    /// The node's command line on this host, toward `peer` (its address; nil while the VM has no
    /// second host: the node's own address stands in, and it runs alone). `first`: the VM has
    /// never had a primary (no generation in etcd), so a new disk here is the VM's disk, made
    /// from the declared image if there is one; any other new disk is filled by its first join.
    /// With `fullResync` (the primary refused the disk, saying only a full copy would do) or a
    /// disk without a record of its instance, the node asks for its disk to be copied whole: in a
    /// pool a backup's disk is never the VM's only copy (the live primary has it), and nobody is
    /// at the keyboard.
    func nodeArguments(_ spec: VMSpec, peer: String?, first: Bool = false, fullResync: Bool = false) throws -> [String] {
        let address = configuration.host.address
        let other = peer ?? address
        var arguments = ["node", "--vm", spec.name, "--node-id", configuration.host.name, "--key-file", configuration.keyFile,
                         "--etcd", configuration.etcdURLs, "--exit-with-parent",
                         "--listen", "\(address):\(spec.basePort)", "--listen", "\(address):\(spec.basePort + 1)",
                         "--peer", "\(other):\(spec.basePort)", "--peer", "\(other):\(spec.basePort + 1)",
                         "--console", "\(address):\(spec.basePort + 2)",
                         "--memory", "\(spec.memoryMiB)", "--append", spec.append, "--status-file", statusURL(spec.name).path]
        if let netdev = spec.netdev { arguments += ["--netdev", netdev] }
        if let mac = spec.mac { arguments += ["--mac", mac] }
        if let diskMiB = spec.diskMiB {
            let image = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("\(spec.name).img").path
            if !FileManager.default.fileExists(atPath: image) {
                if first, let source = spec.diskImage {
                    try DiskImageFile.copy(source, to: image, mebibytes: diskMiB, vm: spec.name, host: configuration.host.name)
                } else {
                    try DiskImageFile.create(image, mebibytes: diskMiB)
                }
            }
            arguments += ["--disk", image, "--disk-sync", spec.diskSync]
            if fullResync || !Self.hasRecord(image) { arguments += ["--resync", "full"] }
        }
        // A pool's backups replay at normal priority: a backup starved at nice 19 beside other
        // VMs' primaries on its host made its own primary's switchovers pause 150-250 ms (50 ms
        // before it is raised, then the scheduler's wait), where at normal priority they pause
        // 0-3 ms (docs/benchmarks.md, "The pool"). `--node-argument=--backup-priority
        // --node-argument=low` keeps the two-host default.
        if !configuration.nodeArguments.contains(where: { $0.hasPrefix("--backup-priority") }) {
            arguments += ["--backup-priority", "normal"]
        }
        return arguments + configuration.nodeArguments.map { $0.replacingOccurrences(of: Self.vmPlaceholder, with: spec.name) }
    }

    /// Whether the disk image has a record of a VM's disk (docs/disks.md): only then can a
    /// joining node's copy be proven equal to the primary's (and resynced quickly). A node writes
    /// a record without an instance as soon as it opens a new image, so one whose first join was
    /// refused (the primary still had its old backup) must still ask for a full copy: the
    /// record file alone is not enough.
    static func hasRecord(_ image: String) -> Bool {
        guard let bytes = FileManager.default.contents(atPath: image + ".lockstep"),
              let record = try? DiskRecord(decoding: Array(bytes)) else { return false }
        return !record.instance.isEmpty
    }

    /// What ``Configuration/nodeArguments`` replace by the VM's name.
    public static let vmPlaceholder = "{vm}"
}
