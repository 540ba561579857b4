/// What the pool does about its VMs' health (issue 16, item 5; docs/pool.md, "Health by
/// latency"): a state machine the leader feeds every round with what the primaries' hosts report,
/// with a clock of its choice, and whose actions it carries out. Pure: no I/O, no clock.
///
/// Rules:
/// 1. A VM is *in trouble* while its primary's host reports it **failing** (probes unanswered in a
///    row) or **slow now** (degraded, and at least ``ServiceHealth/slowNowCount`` of its last
///    ``ServiceHealth/recentProbes`` probes slower than its threshold: a p99 that the window still
///    remembers from one spike does not count). Unknown or no health is never trouble, and ends any episode.
/// 2. Hysteresis: a failing VM is switched over once it has been failing for
///    ``Settings/failingSeconds`` (2 s), a slow one after ``Settings/degradedSeconds`` (5 s),
///    counted from the first report of the episode; a change of state or of primary starts over.
/// 3. Only a protected VM (a backup in step) is switched over, and only to a backup whose host is
///    not suspect; otherwise the policy *holds*: it reports "would switch over (why) but (why
///    not)" once per reason, and does nothing.
/// 4. At most one health switchover per VM per ``Settings/cooldownSeconds`` (60 s), whoever
///    made it (the leader passes the last one from the store): two bad hosts do not play
///    ping-pong with a VM.
/// 5. A host is **suspect** when every probed VM whose primary runs on it is in trouble while a
///    VM whose primary runs on another host answers (is healthy), for
///    ``Settings/suspectSeconds`` (3 s). A suspect host takes no new backups and its protected
///    primaries are switched over (those whose health is unknown excepted), each once per
///    cooldown. It is cleared when no VM whose primary runs on it has been in trouble for
///    ``Settings/clearSeconds`` (30 s), or when it leaves the pool.
/// 6. A VM with a switchover already pending (planned, or a drain's) is left to it.
/// 7. With ``Settings/enabled`` false the policy still judges and reports, but only holds.
public struct HealthPolicy: Sendable {
    /// The policy's knobs (seconds); the defaults are the pool's.
    public struct Settings: Sendable, Equatable {
        /// False: report what would be done, do nothing (`lockstep agent --health-policy off`).
        public var enabled = true
        public var failingSeconds = 2.0
        public var degradedSeconds = 5.0
        public var cooldownSeconds = 60.0
        public var suspectSeconds = 3.0
        public var clearSeconds = 30.0

        public init() {}
    }

    /// One VM as the leader sees it this round.
    public struct VM: Sendable, Equatable {
        public var name: String
        /// The host of its live primary (nil: none runs).
        public var primary: String?
        /// The host of its backup in step (nil: the VM is not protected).
        public var backup: String?
        /// Its service's health as its primary's host reports it (nil: not probed).
        public var health: ServiceHealth?
        /// The probe's threshold (for the reasons).
        public var thresholdMilliseconds: Double
        /// False when the VM opted out (`lockstep vm create --no-health-switchover`).
        public var switchoverAllowed = true
        /// A switchover of it is pending already.
        public var switchoverPending = false
        /// When it was last switched over for its health, as stored (survives a change of leader).
        public var lastHealthSwitchover: Double?

        public init(name: String, primary: String?, backup: String?, health: ServiceHealth?, thresholdMilliseconds: Double = 100) {
            self.name = name
            self.primary = primary
            self.backup = backup
            self.health = health
            self.thresholdMilliseconds = thresholdMilliseconds
        }
    }

    /// What the leader does, each with its reason.
    public enum Action: Sendable, Equatable {
        /// Switch the VM's primary on `from` over to its backup on `to`.
        case switchover(vm: String, from: String, to: String, reason: String)
        /// The VM would be switched over but is not (reported once per reason).
        case hold(vm: String, reason: String)
        /// The host is suspect from now on: it takes no new backups.
        case suspect(host: String, reason: String)
        /// The host is no longer suspect.
        case cleared(host: String, reason: String)
    }

    private enum Trouble: Equatable { case failing, slow }

    private struct Episode {
        var trouble: Trouble
        var primary: String
        var since: Double
    }

    public let settings: Settings
    /// The suspect hosts, with why each became suspect.
    public private(set) var suspects: [String: String]
    private var episodes: [String: Episode] = [:]
    private var lastSwitchover: [String: Double] = [:]
    /// Since when each host's suspect condition has held.
    private var hostTrouble: [String: Double] = [:]
    /// Since when each suspect host has had no VM in trouble.
    private var hostCalm: [String: Double] = [:]
    /// The obstacle last reported for each VM held.
    private var held: [String: String] = [:]

    /// `suspects`: hosts already suspect (a new leader adopts them from the store).
    public init(settings: Settings = Settings(), suspects: [String: String] = [:]) {
        self.settings = settings
        self.suspects = suspects
    }

    /// One round at time `now` (seconds): `vms` as they are, `hosts` the hosts alive.
    public mutating func decide(vms: [VM], hosts: Set<String>, now: Double) -> [Action] {
        let vms = vms.sorted { $0.name < $1.name }
        for vm in vms { track(vm, now: now) }
        for name in Set(episodes.keys).subtracting(vms.map(\.name)) { episodes[name] = nil }
        var actions = judgeHosts(vms, hosts: hosts, now: now)
        for vm in vms {
            guard let (cause, backup) = reasonToSwitch(vm, now: now), let primary = vm.primary else {
                held[vm.name] = nil
                continue
            }
            if vm.switchoverPending { continue }
            let last = max(lastSwitchover[vm.name] ?? -.infinity, vm.lastHealthSwitchover ?? -.infinity)
            // What stands in the way: a key (reported again only when it changes) and the words.
            let obstacle: (key: String, text: String)? =
                if !settings.enabled { ("off", "the health policy is off (lockstep agent --health-policy off)") }
                else if !vm.switchoverAllowed { ("opted out", "the VM opted out (--no-health-switchover)") }
                else if backup == nil { ("unprotected", "no backup in step") }
                else if let backup, suspects[backup] != nil { ("suspect \(backup)", "its backup's host \(backup) is suspect") }
                else if now - last < settings.cooldownSeconds {
                    ("cooldown", "it was switched over for its health \(Self.seconds(now - last)) ago (at most once per \(Self.seconds(settings.cooldownSeconds)))")
                } else { nil }
            if let obstacle {
                if held[vm.name] != obstacle.key { actions.append(.hold(vm: vm.name, reason: "would switch over (\(cause)) but \(obstacle.text)")) }
                held[vm.name] = obstacle.key
                continue
            }
            guard let backup else { continue }
            actions.append(.switchover(vm: vm.name, from: primary, to: backup, reason: "\(cause); backup on \(backup) in step"))
            lastSwitchover[vm.name] = now
            episodes[vm.name] = nil
            held[vm.name] = nil
        }
        return actions
    }

    /// Starts, keeps or ends the VM's episode of trouble.
    private mutating func track(_ vm: VM, now: Double) {
        guard let primary = vm.primary, let trouble = Self.trouble(vm.health) else {
            episodes[vm.name] = nil
            return
        }
        if let episode = episodes[vm.name], episode.trouble == trouble, episode.primary == primary { return }
        episodes[vm.name] = Episode(trouble: trouble, primary: primary, since: now)
    }

    private static func trouble(_ health: ServiceHealth?) -> Trouble? {
        guard let health else { return nil }
        if health.state == .failing { return .failing }
        return health.isSlowNow ? .slow : nil
    }

    /// Why the VM should be switched over now (its episode lasted long enough, or its primary's
    /// host is suspect), and its backup's host; nil if it should not.
    private func reasonToSwitch(_ vm: VM, now: Double) -> (String, String?)? {
        guard let primary = vm.primary else { return nil }
        if let episode = episodes[vm.name], let health = vm.health {
            let lasted = now - episode.since
            switch episode.trouble {
            case .failing where lasted >= settings.failingSeconds:
                return ("failing for \(Self.seconds(lasted)): \(health.failureStreak.map { "\($0)" } ?? "the last") probes unanswered in a row, \(health.failures) of \(health.probes) in 30 s", vm.backup)
            case .slow where lasted >= settings.degradedSeconds:
                return ("degraded for \(Self.seconds(lasted)): p99 \(Self.milliseconds(health.p99)) > \(Self.milliseconds(vm.thresholdMilliseconds)), \(health.recentSlow ?? 0) of the last \(ServiceHealth.recentProbes) probes slower", vm.backup)
            default: break
            }
        }
        if let why = suspects[primary], vm.health?.state != .unknown {
            return ("its primary's host \(primary) is suspect (\(why))", vm.backup)
        }
        return nil
    }

    /// Rule 5: hosts become suspect and are cleared.
    private mutating func judgeHosts(_ vms: [VM], hosts: Set<String>, now: Double) -> [Action] {
        var actions: [Action] = []
        for host in suspects.keys.sorted() where !hosts.contains(host) {
            suspects[host] = nil
            actions.append(.cleared(host: host, reason: "it left the pool"))
        }
        for host in hosts.sorted() {
            let probed = vms.filter { $0.primary == host && $0.health != nil && $0.health?.state != .unknown }
            let troubled = probed.filter { episodes[$0.name] != nil }
            let answering = vms.filter { $0.primary != nil && $0.primary != host && $0.health?.state == .healthy }
            if !probed.isEmpty && troubled.count == probed.count && !answering.isEmpty {
                hostCalm[host] = nil
                let since = hostTrouble[host] ?? now
                hostTrouble[host] = since
                if suspects[host] == nil && now - since >= settings.suspectSeconds {
                    let peers = Set(answering.compactMap(\.primary)).sorted().joined(separator: ", ")
                    let reason = "\(troubled.count) of \(probed.count) VMs whose primary runs on \(host) failing or slow for \(Self.seconds(now - since)) while VMs on \(peers) answer"
                    suspects[host] = reason
                    actions.append(.suspect(host: host, reason: reason))
                }
                continue
            }
            hostTrouble[host] = nil
            guard suspects[host] != nil else { continue }
            if vms.contains(where: { $0.primary == host && episodes[$0.name] != nil }) {
                hostCalm[host] = nil
                continue
            }
            let calm = hostCalm[host] ?? now
            hostCalm[host] = calm
            if now - calm >= settings.clearSeconds {
                suspects[host] = nil
                hostCalm[host] = nil
                actions.append(.cleared(host: host, reason: "no VM whose primary runs on it failing or slow for \(Self.seconds(now - calm))"))
            }
        }
        return actions
    }

    static func seconds(_ value: Double) -> String {
        value < 10 ? "\((value * 10).rounded() / 10) s" : "\(Int(value.rounded())) s"
    }

    static func milliseconds(_ value: Double?) -> String {
        value.map { "\(Int($0.rounded())) ms" } ?? "? ms"
    }
}
