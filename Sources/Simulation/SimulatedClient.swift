/// A client of the guest's key-value service: writes `S k<n> v<n>` to the live primary's
/// console, remembers every write acknowledged by an `OK` line that the primary released, follows
/// the service to the other node on a failover (resending what was not acknowledged), and at the
/// end reads every acknowledged key back.
final class SimulatedClient {
    unowned var cluster: SimulatedCluster!
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
        guard let node = attached else { return }
        if verifying {
            // Ask again for what has not been answered (a failover may have lost the request).
            let keys = toVerify.sorted().prefix(20)
            for key in keys { node.console.type(Array("G k\(key)\n".utf8)) }
            if !keys.isEmpty { cluster.wake(node) }
            return
        }
        if pending.count < 3 {
            pending.append(nextKey)
            node.console.type(Array("S k\(nextKey) v\(nextKey)\n".utf8))
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
        for key in pending { node.console.type(Array("S k\(key) v\(key)\n".utf8)) }
        cluster.wake(node)
    }

    func received(_ bytes: [UInt8], from node: SimulatedNode) {
        guard node === attached else { return }
        buffer += bytes
        while let newline = buffer.firstIndex(of: 10) {
            let line = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            handle(line)
        }
    }

    private func handle(_ line: String) {
        let words = line.split(separator: " ").map(String.init)
        guard words.count >= 2, words[1].hasPrefix("k"), let key = UInt64(words[1].dropFirst()) else { return }
        switch words[0] {
        case "OK":
            acknowledged.insert(key)
            pending.removeAll { $0 == key }
        case "V":
            guard toVerify.contains(key) else { return }
            if words.count == 3 && words[2] == "v\(key)" {
                toVerify.remove(key)
            } else {
                cluster.violate(.lostWrite, "k\(key) was acknowledged with v\(key) but reads \(words.dropFirst(2).joined(separator: " "))")
            }
        case "N":
            if toVerify.contains(key) {
                cluster.violate(.lostWrite, "k\(key) was acknowledged (v\(key)) but the service does not know it")
            }
        default:
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
