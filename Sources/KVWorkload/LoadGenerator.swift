import Foundation
import LockstepSupport

/// Drives the key-value service with writes (and checked reads) from several clients at once,
/// each on its own thread with its own ``KVClient`` and ``Ledger``, and measures what the clients
/// saw: acknowledged writes, reconnections, the longest pause between two answers (a failover
/// shows up there) and request latencies.
///
/// Client `i` is named `<prefix>c<i>` and writes only keys of its own (`<name>-k0` ...), each
/// write with a new value (`v<name>-<n>`), so that the order of a key's writes is the client's
/// order and a lost or reverted write is visible. Every ``Options/readEvery``-th request reads
/// back a key already written and checks it against the ledger at once.
public struct LoadGenerator: Sendable {
    /// What to run.
    public struct Options: Sendable {
        /// The console ports, in the order the clients try them.
        public var endpoints: [Endpoint]
        /// How many clients run at once.
        public var clients: Int
        /// How many keys each client writes (its own).
        public var keysPerClient: Int
        /// Stop after this many acknowledged writes in all (shared out between the clients).
        public var writes: Int?
        /// Stop after this many seconds.
        public var duration: Double?
        /// Every this many requests, read a written key back and check it (0: never).
        public var readEvery: Int
        /// The start of every client's name, so that runs against one service do not mix keys.
        public var namePrefix: String
        /// The clients' timeouts.
        public var client: KVClient.Options
        /// How often ``LoadGenerator/run(progress:)`` reports progress, in seconds.
        public var progressInterval: Double

        public init(endpoints: [Endpoint], clients: Int = 1, keysPerClient: Int = 50, writes: Int? = nil,
                    duration: Double? = nil, readEvery: Int = 4, namePrefix: String = LoadGenerator.randomPrefix(),
                    client: KVClient.Options = .init(), progressInterval: Double = 1) {
            self.endpoints = endpoints
            self.clients = clients
            self.keysPerClient = keysPerClient
            self.writes = writes
            self.duration = duration
            self.readEvery = readEvery
            self.namePrefix = namePrefix
            self.client = client
            self.progressInterval = progressInterval
        }
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// A short random prefix (four lowercase hex digits and a dash).
    public static func randomPrefix() -> String {
        String(UInt16.random(in: 0x1000...0xFFFF), radix: 16) + "-"
    }

    /// Runs the load until the writes are done, the duration is over or every client has failed,
    /// calling `progress` every ``Options/progressInterval`` seconds with the figures so far.
    public func run(progress: (LoadSummary) -> Void = { _ in }) -> LoadSummary {
        let state = LoadState(started: monotonicSeconds())
        let stopAt = options.duration.map { state.started + $0 }
        let clients = max(1, options.clients)
        for index in 0..<clients {
            let quota = options.writes.map { $0 / clients + (index < $0 % clients ? 1 : 0) }
            let options = self.options
            Thread.detachNewThread {
                runClient(index: index, options: options, quota: quota, stopAt: stopAt, state: state)
            }
        }
        while !state.waitForClients(clients, timeout: max(0.05, options.progressInterval)) {
            progress(state.summary())
        }
        return state.summary()
    }
}

/// One client's loop.
private func runClient(index: Int, options: LoadGenerator.Options, quota: Int?, stopAt: Double?, state: LoadState) {
    let name = "\(options.namePrefix)c\(index + 1)"
    var ledger = Ledger()
    var client: KVClient?
    do {
        let kv = try KVClient(endpoints: options.endpoints, name: name, options: options.client)
        client = kv
        var requests = 0
        var writes = 0
        var keysWritten: [String] = []
        var lastAnswer: Double?
        while quota.map({ writes < $0 }) ?? true, stopAt.map({ monotonicSeconds() < $0 }) ?? true {
            requests += 1
            let start = monotonicSeconds()
            var lost: LostWrite?
            var wrote = false
            if options.readEvery > 0 && requests % options.readEvery == 0, let key = keysWritten.randomElement() {
                lost = ledger.check(key: key, found: try kv.get(key))
            } else {
                let key = "\(name)-k\(Int.random(in: 0..<max(1, options.keysPerClient)))"
                if ledger.values[key] == nil { keysWritten.append(key) }
                try ledger.write(key, "v\(name)-\(requests)", using: kv)
                writes += 1
                wrote = true
            }
            let end = monotonicSeconds()
            state.record(latency: end - start, gap: lastAnswer.map { end - $0 }, wrote: wrote, lost: lost,
                         client: index, reconnects: kv.reconnects, resends: kv.resends)
            lastAnswer = end
        }
        state.finish(ledger: ledger, failure: nil)
    } catch {
        state.finish(ledger: ledger, failure: "client \(name): \(error)")
    }
    client?.close()
}

/// What the clients have seen so far, shared between their threads.
private final class LoadState: @unchecked Sendable {
    let started: Double
    private let condition = NSCondition()
    private var finished = 0
    private var writes = 0
    private var reads = 0
    private var reconnects: [Int: Int] = [:]
    private var resends: [Int: Int] = [:]
    private var latencies: [Double] = []
    private var longestGap = 0.0
    private var lost: [LostWrite] = []
    private var failures: [String] = []
    private var ledger = Ledger()

    init(started: Double) {
        self.started = started
    }

    func record(latency: Double, gap: Double?, wrote: Bool, lost: LostWrite?, client: Int, reconnects: Int, resends: Int) {
        condition.lock()
        defer { condition.unlock() }
        if wrote { writes += 1 } else { reads += 1 }
        latencies.append(latency)
        if let gap { longestGap = max(longestGap, gap) }
        if let lost { self.lost.append(lost) }
        self.reconnects[client] = reconnects
        self.resends[client] = resends
    }

    func finish(ledger: Ledger, failure: String?) {
        condition.lock()
        defer { condition.unlock() }
        self.ledger.merge(ledger)
        if let failure { failures.append(failure) }
        finished += 1
        condition.broadcast()
    }

    /// Waits up to `timeout` seconds; true once all `clients` have finished.
    func waitForClients(_ clients: Int, timeout: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let until = Date(timeIntervalSinceNow: timeout)
        while finished < clients {
            if !condition.wait(until: until) { break }
        }
        return finished >= clients
    }

    func summary() -> LoadSummary {
        condition.lock()
        defer { condition.unlock() }
        return LoadSummary(seconds: monotonicSeconds() - started, writesAcknowledged: writes, readsChecked: reads,
                           reconnects: reconnects.values.reduce(0, +), resends: resends.values.reduce(0, +),
                           longestGap: longestGap, latencies: latencies, lostOnRead: lost, failures: failures, ledger: ledger)
    }
}
