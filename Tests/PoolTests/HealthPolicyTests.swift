import Pool
import Testing

/// The health policy (``HealthPolicy``), each rule driven with a virtual clock, then random
/// sequences of reports checked for what must never happen.
@Suite struct HealthPolicyTests {
    static let failing = ServiceHealth(state: .failing, p50: 2, p99: 4, probes: 40, failures: 4, failureStreak: 4)
    static let healthy = ServiceHealth(state: .healthy, p50: 2, p99: 4, probes: 40, failures: 0, failureStreak: 0, recentSlow: 1)
    static let slow = ServiceHealth(state: .degraded, p50: 180, p99: 240, probes: 40, failures: 0, failureStreak: 0, recentSlow: 9)
    /// Degraded by a spike the window remembers; the last probes answer in time.
    static let spiked = ServiceHealth(state: .degraded, p50: 2, p99: 240, probes: 40, failures: 0, failureStreak: 0, recentSlow: 1)
    static let unknown = ServiceHealth(state: .unknown, probes: 2)
    static let hosts: Set<String> = ["h1", "h2", "h3"]

    static func vm(_ name: String = "kv", on primary: String = "h1", backup: String? = "h2", health: ServiceHealth?) -> HealthPolicy.VM {
        HealthPolicy.VM(name: name, primary: primary, backup: backup, health: health, thresholdMilliseconds: 50)
    }

    /// Runs `vms` every 0.5 s from `start` through `end` (both included); the actions with their times.
    static func run(_ policy: inout HealthPolicy, _ vms: [HealthPolicy.VM], from start: Double, through end: Double) -> [(Double, HealthPolicy.Action)] {
        var actions: [(Double, HealthPolicy.Action)] = []
        var now = start
        while now <= end + 1e-9 {
            actions += policy.decide(vms: vms, hosts: hosts, now: now).map { (now, $0) }
            now += 0.5
        }
        return actions
    }

    @Test func aFailingPrimaryWithABackupInStepIsSwitchedOverAfterTwoSeconds() {
        var policy = HealthPolicy()
        let actions = Self.run(&policy, [Self.vm(health: Self.failing)], from: 0, through: 3)
        #expect(actions.count == 1)
        guard case (let time, .switchover(let vm, let from, let to, let reason))? = actions.first else {
            Issue.record("no switchover: \(actions)")
            return
        }
        #expect(time == 2 && vm == "kv" && from == "h1" && to == "h2")
        #expect(reason == "failing for 2.0 s: 4 probes unanswered in a row, 4 of 40 in 30 s; backup on h2 in step")
    }

    @Test func aSlowPrimaryIsSwitchedOverAfterFiveSecondsButARememberedSpikeIsNot() {
        var policy = HealthPolicy()
        #expect(Self.run(&policy, [Self.vm(health: Self.spiked)], from: 0, through: 60).isEmpty)
        let actions = Self.run(&policy, [Self.vm(health: Self.slow)], from: 60.5, through: 70)
        #expect(actions.count == 1)
        guard case (let time, .switchover(_, _, _, let reason))? = actions.first else {
            Issue.record("no switchover: \(actions)")
            return
        }
        #expect(time == 65.5)
        #expect(reason == "degraded for 5.0 s: p99 240 ms > 50 ms, 9 of the last 10 probes slower; backup on h2 in step")
    }

    @Test func unknownHealthEndsTheEpisodeAndIsNeverActedOn() {
        var policy = HealthPolicy()
        #expect(Self.run(&policy, [Self.vm(health: Self.failing)], from: 0, through: 1.5).isEmpty)
        #expect(Self.run(&policy, [Self.vm(health: Self.unknown)], from: 2, through: 30).isEmpty)
        #expect(Self.run(&policy, [Self.vm(health: nil)], from: 30.5, through: 40).isEmpty)
        // Failing again: the two seconds start over.
        #expect(Self.run(&policy, [Self.vm(health: Self.failing)], from: 40.5, through: 42).isEmpty)
        #expect(Self.run(&policy, [Self.vm(health: Self.failing)], from: 42.5, through: 42.5).count == 1)
    }

    @Test func aChangeOfStateOrOfPrimaryStartsTheEpisodeOver() {
        var policy = HealthPolicy()
        #expect(Self.run(&policy, [Self.vm(health: Self.slow)], from: 0, through: 4.5).isEmpty)
        #expect(Self.run(&policy, [Self.vm(health: Self.failing)], from: 5, through: 6.5).isEmpty)
        #expect(Self.run(&policy, [Self.vm(on: "h3", health: Self.failing)], from: 7, through: 8.5).isEmpty)
        #expect(Self.run(&policy, [Self.vm(on: "h3", health: Self.failing)], from: 9, through: 9).count == 1)
    }

    @Test func anUnprotectedVMIsHeldAndTheReasonSaidOnce() {
        var policy = HealthPolicy()
        let actions = Self.run(&policy, [Self.vm(backup: nil, health: Self.failing)], from: 0, through: 20)
        #expect(actions.count == 1)
        guard case (2, .hold("kv", let reason))? = actions.first else {
            Issue.record("no hold at 2 s: \(actions)")
            return
        }
        #expect(reason == "would switch over (failing for 2.0 s: 4 probes unanswered in a row, 4 of 40 in 30 s) but no backup in step")
        // Once a backup is in step, it is switched over.
        let later = Self.run(&policy, [Self.vm(health: Self.failing)], from: 20.5, through: 20.5)
        #expect(later.count == 1)
        if case (_, .switchover)? = later.first {} else { Issue.record("not switched over once protected: \(later)") }
    }

    @Test func offOrOptedOutOnlyHolds() {
        var settings = HealthPolicy.Settings()
        settings.enabled = false
        var off = HealthPolicy(settings: settings)
        let held = Self.run(&off, [Self.vm(health: Self.failing)], from: 0, through: 10)
        #expect(held.count == 1)
        if case (_, .hold(_, let reason))? = held.first {
            #expect(reason.hasSuffix("but the health policy is off (lockstep agent --health-policy off)"))
        } else { Issue.record("\(held)") }
        var policy = HealthPolicy()
        var vm = Self.vm(health: Self.failing)
        vm.switchoverAllowed = false
        let optedOut = Self.run(&policy, [vm], from: 0, through: 10)
        #expect(optedOut.count == 1)
        if case (_, .hold(_, let reason))? = optedOut.first {
            #expect(reason.hasSuffix("but the VM opted out (--no-health-switchover)"))
        } else { Issue.record("\(optedOut)") }
    }

    @Test func aPendingSwitchoverIsLeftToItself() {
        var policy = HealthPolicy()
        var vm = Self.vm(health: Self.failing)
        vm.switchoverPending = true
        #expect(Self.run(&policy, [vm], from: 0, through: 20).isEmpty)
    }

    @Test func oneHealthSwitchoverPerVMPerCooldownEvenAcrossLeaders() {
        var policy = HealthPolicy()
        #expect(Self.run(&policy, [Self.vm(health: Self.failing)], from: 0, through: 2).count == 1)
        // The new primary (h2) fails too: held, once, until 60 s after the switchover.
        let after = Self.run(&policy, [Self.vm(on: "h2", backup: "h1", health: Self.failing)], from: 2.5, through: 62)
        #expect(after.count == 2)
        if case (4.5, .hold(_, let reason))? = after.first {
            #expect(reason.hasSuffix("but it was switched over for its health 2.5 s ago (at most once per 60 s)"))
        } else { Issue.record("\(after)") }
        if case (62, .switchover(_, "h2", "h1", _))? = after.last {} else { Issue.record("\(after)") }
        // A new leader's policy knows the last switchover from the store.
        var next = HealthPolicy()
        var vm = Self.vm(health: Self.failing)
        vm.lastHealthSwitchover = 62
        let fresh = Self.run(&next, [vm], from: 63, through: 122)
        #expect(fresh.filter { if case .switchover = $0.1 { true } else { false } }.map(\.0) == [122])
    }

    @Test func aHostWhoseVMsFailWhileOthersAnswerIsSuspectAndItsPrimariesLeave() {
        var policy = HealthPolicy()
        var idle = Self.vm("idle", on: "h1", backup: "h3", health: nil)   // not probed
        idle.thresholdMilliseconds = 50
        let vms = [Self.vm("a", on: "h1", backup: "h2", health: Self.slow), Self.vm("b", on: "h1", backup: "h3", health: Self.slow),
                   Self.vm("c", on: "h2", backup: "h1", health: Self.healthy), idle]
        let actions = Self.run(&policy, vms, from: 0, through: 3)
        #expect(actions.count == 4, "\(actions)")
        if case (3, .suspect("h1", let reason))? = actions.first {
            #expect(reason == "2 of 2 VMs whose primary runs on h1 failing or slow for 3.0 s while VMs on h2 answer")
        } else { Issue.record("\(actions)") }
        // a and b (h1 is suspect before they are slow for 5 s), and the unprobed one with them.
        let moved = actions.dropFirst().compactMap { time, action -> String? in
            guard case .switchover(let vm, "h1", _, let reason) = action, time == 3, reason.hasPrefix("its primary's host h1 is suspect (2 of 2 VMs") else { return nil }
            return vm
        }
        #expect(moved == ["a", "b", "idle"], "\(actions)")
        #expect(policy.suspects.keys.sorted() == ["h1"])
        // c fails now: its backup is on the suspect host, so it is held, not switched over to h1.
        let c = Self.run(&policy, [Self.vm("c", on: "h2", backup: "h1", health: Self.failing)], from: 5.5, through: 10)
        #expect(c.count == 1)
        if case (_, .hold("c", let reason))? = c.first {
            #expect(reason.hasSuffix("but its backup's host h1 is suspect"))
        } else { Issue.record("\(c)") }
        // Its VMs gone from h1 and answering elsewhere for 30 s, h1 is cleared.
        // No VM whose primary runs on h1 in trouble since 5.5 s: h1 is cleared 30 s later.
        let elsewhere = [Self.vm("a", on: "h2", backup: "h1", health: Self.healthy), Self.vm("c", on: "h2", backup: "h1", health: Self.healthy)]
        let cleared = Self.run(&policy, elsewhere, from: 10.5, through: 41)
        #expect(cleared.count == 1)
        if case (35.5, .cleared("h1", _))? = cleared.first {} else { Issue.record("\(cleared)") }
        #expect(policy.suspects.isEmpty)
    }

    @Test func aHostIsNotSuspectWhenNoOtherVMAnswers() {
        var policy = HealthPolicy()
        let actions = Self.run(&policy, [Self.vm("a", on: "h1", backup: nil, health: Self.failing), Self.vm("b", on: "h2", backup: nil, health: Self.failing)], from: 0, through: 20)
        #expect(!actions.contains { if case .suspect = $0.1 { true } else { false } })
        #expect(policy.suspects.isEmpty)
    }

    @Test func aSuspectHostLeavingThePoolIsCleared() {
        var policy = HealthPolicy(suspects: ["h1": "adopted"])
        let actions = policy.decide(vms: [], hosts: ["h2", "h3"], now: 0)
        #expect(actions == [.cleared(host: "h1", reason: "it left the pool")])
    }

    @Test func aSuspectHostTakesNoNewBackups() {
        let hosts = ["a", "b", "c"].map { PoolSchedulerTests.host($0) }
        let decision = PoolScheduler.decide(hosts: hosts, vms: [PoolSchedulerTests.vm("new")], placements: [:], suspect: ["a"])
        #expect(decision.placements["new"] == Placement(hosts: ["b", "c"]))
        // What it runs, it keeps.
        let kept = PoolScheduler.decide(hosts: hosts, vms: [PoolSchedulerTests.vm("web")], placements: ["web": Placement(hosts: ["a", "b"])],
                                        primaries: ["web": "a"], protected: ["web"], suspect: ["a"])
        #expect(kept.placements.isEmpty)
    }

    /// Random reports over 4 hosts and 4 VMs for hours of virtual time: no VM is switched over
    /// twice within the cooldown, never one without a backup in step, never one whose health is
    /// unknown, never to a suspect host; a switched-over VM's roles swap (sometimes a few rounds
    /// later, as a real handover).
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomSequencesNeverFlapOrTouchAnUnprotectedVM(seed: UInt64) {
        var random = SplitMix(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let hostNames = ["h1", "h2", "h3", "h4"]
        let states = [Self.healthy, Self.healthy, Self.failing, Self.slow, Self.spiked, Self.unknown]
        var vms = (0..<4).map { i in Self.vm("vm\(i)", on: hostNames[i], backup: hostNames[(i + 1) % 4], health: Self.healthy) }
        var pendingUntil: [String: Double] = [:]
        var switchedAt: [String: Double] = [:]
        var policy = HealthPolicy()
        var now = 0.0
        var switchovers = 0
        for _ in 0..<20_000 {
            now += pick([0.25, 0.25, 0.5, 1, 3])
            for i in vms.indices {
                // A VM's health changes now and then; its protection too.
                if random.next() % 8 == 0 { vms[i].health = pick(states) }
                if random.next() % 30 == 0 {
                    vms[i].backup = vms[i].backup == nil ? pick(hostNames.filter { $0 != vms[i].primary }) : nil
                }
                if let until = pendingUntil[vms[i].name], now >= until {
                    pendingUntil[vms[i].name] = nil
                    vms[i].switchoverPending = false
                }
                vms[i].lastHealthSwitchover = random.next() % 2 == 0 ? switchedAt[vms[i].name] : nil   // the store lags now and then
            }
            let before = Dictionary(uniqueKeysWithValues: vms.map { ($0.name, $0) })
            for action in policy.decide(vms: vms, hosts: Set(hostNames), now: now) {
                guard case .switchover(let name, let from, let to, _) = action else { continue }
                let vm = before[name]!
                #expect(vm.backup == to && vm.primary == from, "seed \(seed) at \(now): \(action) of \(vm)")
                #expect(vm.health?.state != .unknown, "seed \(seed) at \(now): \(name) switched over while its health is unknown")
                #expect(!vm.switchoverPending)
                #expect(policy.suspects[to] == nil, "seed \(seed) at \(now): \(name) switched over to suspect \(to)")
                if let last = switchedAt[name] {
                    #expect(now - last >= 60, "seed \(seed): \(name) switched over at \(last) and again at \(now)")
                }
                switchedAt[name] = now
                switchovers += 1
                let i = vms.firstIndex { $0.name == name }!
                vms[i].primary = to
                vms[i].backup = from
                if random.next() % 2 == 0 {
                    vms[i].switchoverPending = true
                    pendingUntil[name] = now + pick([0.5, 1, 5])
                }
            }
        }
        #expect(switchovers > 20, "seed \(seed): only \(switchovers) switchovers: the sequence did not exercise the policy")
    }
}
