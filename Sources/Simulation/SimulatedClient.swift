/// A client of the guest's key-value service: once the service said it is ready, writes `k<n> =
/// v<n>` to the live primary's console, remembers every write acknowledged by an answer that the
/// primary released, follows the service to the other node on a failover (resending what was not
/// acknowledged), and at the end reads every acknowledged key back.
///
/// The reboot fault: the client asks the guest to reset its machine (`R`). The guest's table is
/// in RAM, so a reboot forgets it: the client forgets what was acknowledged before the rebooted
/// guest's ready line (released in order, after every answer of the boot before) and resends what
/// is pending. Ready lines carry the guest's time, which goes on across reboots: a new boot is a
/// later time, the same time is the same line again (after a failover), an earlier one is a
/// violation, and so is a reboot the client did not ask for.
///
/// A client that moves to another node while a reboot it asked for is not confirmed yet may have
/// missed the rebooted guest's ready line (printed while it was attached nowhere, or to the node
/// that died): what it had acknowledged by then may have been erased by that reboot, so such a
/// key read back missing is counted (``keysErasedByAnUnseenReboot``), not a violation. A key read
/// back with a wrong value still is one, and so is every key acknowledged after.
final class SimulatedClient {
    unowned var cluster: SimulatedCluster!
    let dialect: ServiceDialect
    /// The service printed its ready line (requests typed before it may be lost by a booting guest).
    private var serviceReady = false
    private var attached: SimulatedNode?
    private var pending: [UInt64] = []
    private var nextKey: UInt64 = 0
    private(set) var acknowledged: Set<UInt64> = []
    private var buffer: [UInt8] = []
    private var verifying = false
    private var toVerify: Set<UInt64> = []
    private(set) var verified = false
    /// The guest time in the latest boot's ready line (bare-metal service).
    private var bootStamp: UInt64?
    private var rebootsRequested = 0
    private(set) var rebootsSeen = 0
    /// Keys acknowledged before a requested reboot whose ready line the client may have missed.
    private var uncertain: Set<UInt64> = []
    private(set) var keysErasedByAnUnseenReboot = 0

    var progressReport: String {
        "attached to \(attached?.id ?? "nothing"), \(pending.count) writes pending, \(toVerify.count) reads unanswered"
    }

    init(dialect: ServiceDialect) {
        self.dialect = dialect
    }

    func start() { schedule() }

    private func schedule() {
        cluster.queue.schedule(after: cluster.random.uniform(0.002...0.03)) { [weak self] in
            guard let self, !verified else { return }
            tick()
            schedule()
        }
    }

    private func tick() {
        attach()
        guard let node = attached, serviceReady else { return }
        if verifying {
            // Ask again for what has not been answered (a failover may have lost the request).
            let keys = toVerify.sorted().prefix(20)
            for key in keys { node.console.type(Array(dialect.read(key).utf8)) }
            if !keys.isEmpty { cluster.wake(node) }
            return
        }
        if pending.count < 3 {
            pending.append(nextKey)
            node.console.type(Array(dialect.write(nextKey).utf8))
            nextKey += 1
            cluster.wake(node)
        }
    }

    /// A node became or stopped being the live primary.
    func primaryChanged() {
        if let node = attached, !node.isLivePrimary {
            attached = nil
            buffer = []
        }
        attach()
    }

    private func attach() {
        guard attached == nil, let node = cluster.nodes.first(where: \.isLivePrimary) else { return }
        if rebootsRequested > rebootsSeen { uncertain.formUnion(acknowledged) }
        attached = node
        buffer = []
        // Resend what was never acknowledged (writing the same value again is harmless).
        if serviceReady { for key in pending { node.console.type(Array(dialect.write(key).utf8)) } }
        cluster.wake(node)
    }

    func received(_ bytes: [UInt8], from node: SimulatedNode) {
        guard node === attached else { return }
        buffer += bytes
        while let newline = buffer.firstIndex(of: 10) {
            var line = String(decoding: buffer[..<newline], as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            buffer.removeSubrange(...newline)
            handle(line)
        }
    }

    private func handle(_ line: String) {
        if line.hasPrefix(dialect.ready) { serviceReady = true }
        if let stamp = dialect.bootStamp(line) { noteBoot(stamp) }
        switch dialect.parse(line) {
        case .written(let key)?:
            acknowledged.insert(key)
            pending.removeAll { $0 == key }
        case .value(let key, let value)?:
            guard toVerify.contains(key) else { return }
            if value == "v\(key)" {
                toVerify.remove(key)
            } else {
                cluster.violate(.lostWrite, "k\(key) was acknowledged with v\(key) but reads \(value)")
            }
        case .missing(let key)?:
            if toVerify.contains(key) && uncertain.contains(key) {
                toVerify.remove(key)
                keysErasedByAnUnseenReboot += 1
            } else if toVerify.contains(key) {
                cluster.violate(.lostWrite, "k\(key) was acknowledged (v\(key)) but the service does not know it")
            }
        case nil:
            break
        }
        if verifying && toVerify.isEmpty { verified = true }
    }

    /// The reboot fault: asks the guest to reset its machine (if it can and the client is attached).
    /// Returns whether the request was typed.
    func requestReboot() -> Bool {
        guard let request = dialect.reboot, let node = attached, serviceReady, !verifying else { return false }
        rebootsRequested += 1
        node.console.type(Array(request.utf8))
        cluster.wake(node)
        return true
    }

    /// A ready line: a new boot if its time is later than the last one's.
    private func noteBoot(_ stamp: UInt64) {
        defer { bootStamp = max(bootStamp ?? 0, stamp) }
        guard let last = bootStamp else { return }
        if stamp < last {
            cluster.violate(.unexpectedReboot, "a ready line with guest time \(stamp) after one with \(last)")
            return
        }
        guard stamp > last else { return }   // the same line again, from the new primary
        rebootsSeen += 1
        if rebootsSeen > rebootsRequested {
            cluster.violate(.unexpectedReboot, "the guest rebooted \(rebootsSeen) times, the client asked \(rebootsRequested) times")
        }
        // The rebooted guest forgot its table; what was typed before its ready line may be lost.
        acknowledged = []
        uncertain = []
        if verifying { toVerify = [] }
        if let node = attached { for key in pending { node.console.type(Array(dialect.write(key).utf8)) } }
    }

    /// The faults are over: read every acknowledged key back.
    func beginVerification() {
        verifying = true
        toVerify = acknowledged
        if toVerify.isEmpty { verified = true }
    }
}
