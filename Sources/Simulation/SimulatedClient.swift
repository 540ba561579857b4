/// A client of the guest's key-value service: once the service said it is ready, writes `k<n> =
/// v<n>` to the live primary's console, remembers every write acknowledged by an answer that the
/// primary released, follows the service to the other node on a failover (resending what was not
/// acknowledged), and at the end reads every acknowledged key back.
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
            if toVerify.contains(key) {
                cluster.violate(.lostWrite, "k\(key) was acknowledged (v\(key)) but the service does not know it")
            }
        case nil:
            break
        }
        if verifying && toVerify.isEmpty { verified = true }
    }

    /// The faults are over: read every acknowledged key back.
    func beginVerification() {
        verifying = true
        toVerify = acknowledged
        if toVerify.isEmpty { verified = true }
    }
}
