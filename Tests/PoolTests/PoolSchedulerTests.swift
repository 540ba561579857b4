@testable import Pool
import Testing

/// The placement rules (``PoolScheduler``), driven directly.
@Suite struct PoolSchedulerTests {
    static func host(_ name: String, _ memory: Int = 1024, schedulable: Bool = true) -> HostRecord {
        HostRecord(name: name, address: "10.0.0.\(name.count)", memoryMiB: memory, schedulable: schedulable)
    }
    static func vm(_ name: String, _ memory: Int = 256) -> VMSpec {
        VMSpec(name: name, memoryMiB: memory, append: "console=ttyS0", basePort: 7100)
    }

    @Test func aNewVMGetsTheTwoHostsWithTheMostRoom() {
        let hosts = [Self.host("a", 1024), Self.host("b", 4096), Self.host("c", 2048)]
        let plan = PoolScheduler.plan(hosts: hosts, vms: [Self.vm("web")], placements: [:])
        #expect(plan["web"] == Placement(hosts: ["b", "c"]))
    }

    @Test func aDeadHostIsReplacedAndTheSurvivorStaysFirst() {
        let hosts = [Self.host("a"), Self.host("c")]
        let plan = PoolScheduler.plan(hosts: hosts, vms: [Self.vm("web")], placements: ["web": Placement(hosts: ["b", "a"])])
        #expect(plan["web"] == Placement(hosts: ["a", "c"]))
    }

    @Test func aBackupHostThePrimaryDeclaredLostIsReplacedBeforeItsLeaseExpires() {
        // b is still registered (its lease has not run out), but the primary on a declared it lost.
        let hosts = [Self.host("a", 1024), Self.host("b", 4096), Self.host("c", 2048)]
        let placements = ["web": Placement(hosts: ["a", "b"])]
        let decision = PoolScheduler.decide(hosts: hosts, vms: [Self.vm("web")], placements: placements,
                                            primaries: ["web": "a"], lostPeers: ["web": "b"])
        #expect(decision.placements["web"] == Placement(hosts: ["a", "c"]))
        // Without the primary's word, nothing moves.
        #expect(PoolScheduler.decide(hosts: hosts, vms: [Self.vm("web")], placements: placements, primaries: ["web": "a"]).placements.isEmpty)
        // Once b is out of the placement, the primary's word changes nothing more.
        let after = ["web": Placement(hosts: ["a", "c"])]
        #expect(PoolScheduler.decide(hosts: hosts, vms: [Self.vm("web")], placements: after,
                                     primaries: ["web": "a"], lostPeers: ["web": "b"]).placements.isEmpty)
    }

    @Test func theOldPrimarysHostIsReplacedWhenTheBackupWentLiveWithoutIt() {
        let hosts = [Self.host("a"), Self.host("b"), Self.host("c")]
        let decision = PoolScheduler.decide(hosts: hosts, vms: [Self.vm("web")], placements: ["web": Placement(hosts: ["a", "b"])],
                                            primaries: ["web": "b"], lostPeers: ["web": "a"])
        #expect(decision.placements["web"] == Placement(hosts: ["b", "c"]))
    }

    @Test func aLostHostIsTakenAgainOnlyWhenNoOtherHasRoom() {
        // c is too small: the VM keeps b rather than run unprotected.
        let hosts = [Self.host("a"), Self.host("b"), Self.host("c", 128)]
        let placements = ["web": Placement(hosts: ["a", "b"])]
        let decision = PoolScheduler.decide(hosts: hosts, vms: [Self.vm("web")], placements: placements,
                                            primaries: ["web": "a"], lostPeers: ["web": "b"])
        #expect(decision.placements.isEmpty)
    }

    @Test func unchangedPlacementsAreNotRewritten() {
        let hosts = [Self.host("a"), Self.host("b"), Self.host("c")]
        #expect(PoolScheduler.plan(hosts: hosts, vms: [Self.vm("web")], placements: ["web": Placement(hosts: ["a", "b"])]).isEmpty)
    }

    @Test func memoryIsCountedAndAVMWaitsWithAReason() {
        // Two hosts of 512 MiB: the first 384 MiB VM takes both; the second fits nowhere.
        let hosts = [Self.host("a", 512), Self.host("b", 512)]
        let plan = PoolScheduler.plan(hosts: hosts, vms: [Self.vm("one", 384), Self.vm("two", 384)], placements: [:])
        #expect(plan["one"] == Placement(hosts: ["a", "b"]))
        #expect(plan["two"]?.hosts == [])
        #expect(plan["two"]?.waiting?.contains("384 MiB") == true)
    }

    @Test func aVMWithoutASpareHostRunsUnprotectedAndSaysSo() {
        let plan = PoolScheduler.plan(hosts: [Self.host("a")], vms: [Self.vm("web")], placements: ["web": Placement(hosts: ["a", "b"])])
        #expect(plan["web"]?.hosts == ["a"])
        #expect(plan["web"]?.waiting?.contains("unprotected") == true)
    }

    @Test func aVMWhoseHostsAreAllGoneKeepsThemAndWaits() {
        let plan = PoolScheduler.plan(hosts: [Self.host("c")], vms: [Self.vm("web")], placements: ["web": Placement(hosts: ["a", "b"])])
        #expect(plan["web"]?.hosts == ["a", "b"])
        #expect(plan["web"]?.waiting?.contains("gone") == true)
    }

    @Test func aDrainedHostTakesNothingNewButKeepsWhatItRuns() {
        let hosts = [Self.host("a", schedulable: false), Self.host("b"), Self.host("c")]
        #expect(PoolScheduler.plan(hosts: hosts, vms: [Self.vm("old")], placements: ["old": Placement(hosts: ["a", "b"])]).isEmpty)
        #expect(PoolScheduler.plan(hosts: hosts, vms: [Self.vm("new")], placements: [:])["new"] == Placement(hosts: ["b", "c"]))
    }

    @Test func randomPoolsNeverOvercommitOrDoublePlace() {
        var random = SplitMix(seed: 42)
        for _ in 0..<500 {
            let hosts = (0..<Int(random.next() % 5 + 1)).map { Self.host("h\($0)", Int(random.next() % 4 + 1) * 256) }
            let vms = (0..<Int(random.next() % 6)).map { Self.vm("v\($0)", Int(random.next() % 3 + 1) * 128) }
            var placements: [String: Placement] = [:]
            for vm in vms where random.next() % 2 == 0 {
                placements[vm.name] = Placement(hosts: ["h\(random.next() % 6)", "h\(random.next() % 6)"].uniqued())
            }
            let plan = PoolScheduler.plan(hosts: hosts, vms: vms, placements: placements)
            var final = placements
            for (name, placement) in plan { final[name] = placement }
            var used: [String: Int] = [:]
            for vm in vms {
                let placed = final[vm.name]?.hosts ?? []
                #expect(Set(placed).count == placed.count, "placed twice on one host: \(placed)")
                #expect(placed.count <= 2)
                for name in placed where hosts.contains(where: { $0.name == name }) { used[name, default: 0] += vm.memoryMiB }
                if placed.count < 2 { #expect(final[vm.name]?.waiting != nil, "\(vm.name) short of hosts without a reason") }
            }
            for host in hosts {
                // Hosts only take what fits, except what they already ran before the plan.
                let before = vms.filter { placements[$0.name]?.hosts.contains(host.name) ?? false }.map(\.memoryMiB).reduce(0, +)
                #expect(used[host.name, default: 0] <= max(host.memoryMiB, before))
            }
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == String {
    func uniqued() -> [String] {
        var seen: Set<String> = []
        return filter { seen.insert($0).inserted }
    }
}

/// Planned operations: drain and move.
@Suite struct PoolPlannedOperationTests {
    static let hosts = [PoolSchedulerTests.host("a"), PoolSchedulerTests.host("b"), PoolSchedulerTests.host("c")]
    static let web = PoolSchedulerTests.vm("web")

    @Test func drainingTheBackupsHostMovesTheBackup() {
        let decision = PoolScheduler.decide(hosts: Self.hosts, vms: [Self.web], placements: ["web": Placement(hosts: ["a", "b"])],
                                            primaries: ["web": "a"], protected: ["web"], drained: ["b"])
        #expect(decision.placements["web"] == Placement(hosts: ["a", "c"]))
        #expect(decision.switchovers.isEmpty)
    }

    @Test func drainingThePrimarysHostSwitchesOverFirstAndOnlyWhenProtected() {
        var decision = PoolScheduler.decide(hosts: Self.hosts, vms: [Self.web], placements: ["web": Placement(hosts: ["a", "b"])],
                                            primaries: ["web": "a"], protected: ["web"], drained: ["a"])
        #expect(decision.switchovers == ["web"])
        #expect(decision.placements.isEmpty, "the placement changes only once the primary has moved")
        decision = PoolScheduler.decide(hosts: Self.hosts, vms: [Self.web], placements: ["web": Placement(hosts: ["a", "b"])],
                                        primaries: ["web": "a"], protected: [], drained: ["a"])
        #expect(decision.switchovers.isEmpty, "no switchover without a backup in step")
        #expect(decision.placements.isEmpty)
        // After the switchover, the old primary's host holds the backup: it is replaced.
        decision = PoolScheduler.decide(hosts: Self.hosts, vms: [Self.web], placements: ["web": Placement(hosts: ["a", "b"])],
                                        primaries: ["web": "b"], protected: [], drained: ["a"])
        #expect(decision.placements["web"] == Placement(hosts: ["b", "c"]))
    }

    @Test func aDrainedHostTakesNoNewVMs() {
        let decision = PoolScheduler.decide(hosts: Self.hosts, vms: [PoolSchedulerTests.vm("new")], placements: [:], drained: ["a"])
        #expect(decision.placements["new"] == Placement(hosts: ["b", "c"]))
    }

    @Test func aMoveGoesWhereAskedOnlyWhenProtectedAndThereIsRoom() {
        var decision = PoolScheduler.decide(hosts: Self.hosts, vms: [Self.web], placements: ["web": Placement(hosts: ["a", "b"])],
                                            primaries: ["web": "a"], protected: ["web"], moves: ["web": "c"])
        #expect(decision.placements["web"] == Placement(hosts: ["a", "c"]))
        decision = PoolScheduler.decide(hosts: Self.hosts, vms: [Self.web], placements: ["web": Placement(hosts: ["a", "b"])],
                                        primaries: ["web": "a"], protected: [], moves: ["web": "c"])
        #expect(decision.placements.isEmpty, "an unprotected VM's only backup is not moved")
        let small = [PoolSchedulerTests.host("a"), PoolSchedulerTests.host("b"), PoolSchedulerTests.host("c", 128)]
        decision = PoolScheduler.decide(hosts: small, vms: [Self.web], placements: ["web": Placement(hosts: ["a", "b"])],
                                        primaries: ["web": "a"], protected: ["web"], moves: ["web": "c"])
        #expect(decision.placements.isEmpty, "no room on c")
    }
}

/// The placement follows the live primary.
@Suite struct PoolPrimaryFollowingTests {
    @Test func aPrimaryThatWentLiveOffItsPlacementIsPutBack() {
        // The backup was being moved from c to b when the primary on a died: c went live.
        let hosts = [PoolSchedulerTests.host("b"), PoolSchedulerTests.host("c"), PoolSchedulerTests.host("d")]
        let decision = PoolScheduler.decide(hosts: hosts, vms: [PoolSchedulerTests.vm("web")],
                                            placements: ["web": Placement(hosts: ["a", "b"])], primaries: ["web": "c"])
        #expect(decision.placements["web"]?.hosts.first == "c")
        #expect(decision.placements["web"]?.hosts.count == 2)
    }
}

/// Which lost peers the leader acts on (``PoolStore/VMState/lostPeers``). "Since" is by etcd
/// revision: the hosts' clocks (`updated`, `lostPeerSince`) may disagree by any amount.
@Suite struct LostPeerTests {
    /// The reports with the etcd revisions they were read at.
    static func state(_ nodes: [(NodeStatus, Int64)]) -> PoolStore.VMState {
        var state = PoolStore.VMState()
        state.nodes["web"] = nodes.map(\.0)
        state.nodeRevisions["web"] = Dictionary(nodes.map { ($0.0.host, $0.1) }, uniquingKeysWith: { a, _ in a })
        return state
    }

    @Test func aDeclarationNewerThanTheLostHostsReportIsActedOn() {
        // b's clock is an hour ahead: its report looks newer by time, not by revision.
        let state = Self.state([(NodeStatus(host: "a", role: .primaryAlone, detail: "", updated: 110, lostPeer: "b", lostPeerSince: 105), 50),
                                (NodeStatus(host: "b", role: .backup, detail: "", updated: 3_700), 40)])
        #expect(state.lostPeers == ["web": "b"])
        #expect(Self.state([(NodeStatus(host: "a", role: .primaryAlone, detail: "", updated: 110, lostPeer: "b"), 50)]).lostPeers == ["web": "b"])
        // Reported again (revision 70) since the first report of the declaration (50).
        var again = NodeStatus(host: "a", role: .primaryAlone, detail: "", updated: 120, lostPeer: "b")
        again.lostPeerRevision = 50
        #expect(Self.state([(again, 70), (NodeStatus(host: "b", role: .backup, detail: "", updated: 3_700), 45)]).lostPeers == ["web": "b"])
    }

    @Test func aNodeThatHostReportedSinceIsANewOneAndIsLeftAlone() {
        // b was placed again after the loss (a move back onto it): its new node reported at
        // revision 80, after the declaration's first report (50); b's clock is an hour behind.
        var primary = NodeStatus(host: "a", role: .primary, detail: "", updated: 130, lostPeer: "b", lostPeerSince: 105)
        primary.lostPeerRevision = 50
        let state = Self.state([(primary, 90), (NodeStatus(host: "b", role: .starting, detail: "", updated: -3_000), 80)])
        #expect(state.lostPeers.isEmpty)
    }

    @Test func onlyTheLivePrimarysWordCounts() {
        let state = Self.state([(NodeStatus(host: "a", role: .stopped, detail: "", updated: 110, lostPeer: "b", lostPeerSince: 105), 50)])
        #expect(state.lostPeers.isEmpty)
    }

    @Test func theDeadPrimarysStaleReportDoesNotHideTheNewPrimary() {
        // a's primary died with its host; its report stays until a's lease expires. b went live
        // and declared a lost, whichever report etcd lists first.
        let dead = NodeStatus(host: "a", role: .primary, detail: "", updated: 100)
        let live = NodeStatus(host: "b", role: .primaryAlone, detail: "", updated: 110, lostPeer: "a", lostPeerSince: 105)
        let orders: [[(NodeStatus, Int64)]] = [[(dead, 30), (live, 40)], [(live, 40), (dead, 30)]]
        for nodes in orders {
            var state = Self.state(nodes)
            state.generations["web"] = (4, "b")   // b claimed the generation before it went live
            state.markStalePrimaries()
            #expect(state.primaries == ["web": "b"])
            #expect(state.lostPeers == ["web": "a"])
            // The scheduler, still seeing a among the hosts, puts the VM on b and a third host.
            state.specs = [VMSpec(name: "web", memoryMiB: 64, append: "", basePort: 7000)]
            state.placements["web"] = Placement(hosts: ["a", "b"])
            let hosts = ["a", "b", "c"].map { HostRecord(name: $0, address: "10.0.0.\($0)", memoryMiB: 1024) }
            let decision = PoolScheduler.decide(hosts: hosts, vms: state.specs, placements: state.placements,
                                                primaries: state.primaries, lostPeers: state.lostPeers)
            #expect(decision.placements["web"]?.hosts == ["b", "c"])
        }
    }

    @Test func aPrimaryReportFromAHostThatIsNotTheOwnerIsStale() {
        // Just after a switchover from a to b: b claimed the generation (the owner) and reports
        // primary-alone; a's last report still says primary, b's older one said backup.
        var state = Self.state([(NodeStatus(host: "a", role: .primary, detail: "", updated: 100), 30),
                                (NodeStatus(host: "b", role: .primaryAlone, detail: "", updated: 110), 40)])
        state.generations["web"] = (5, "b")
        state.markStalePrimaries()
        #expect(state.primaries == ["web": "b"])
        #expect(state.nodes["web"]?.first { $0.host == "a" }?.role == .starting)
        // Before b's agent reported: a's "primary" and b's "backup" are both old; not protected.
        var before = Self.state([(NodeStatus(host: "a", role: .primary, detail: "", updated: 100), 30),
                                 (NodeStatus(host: "b", role: .backup, detail: "", updated: 90), 20)])
        before.generations["web"] = (5, "b")
        #expect(before.protected == ["web"])   // as read, without the owner
        before.markStalePrimaries()
        #expect(before.protected.isEmpty && before.primaries.isEmpty)
        // An owner that reports nothing of the VM (a node started by hand under another name):
        // the reports are left as they are.
        var manual = Self.state([(NodeStatus(host: "a", role: .primary, detail: "", updated: 100), 30)])
        manual.generations["web"] = (2, "node-7")
        manual.markStalePrimaries()
        #expect(manual.primaries == ["web": "a"])
    }
}
