import Foundation
import KVWorkload

/// One kind of fault the soak injects (issue 5, deliverable 9).
public enum Fault: String, CaseIterable, Sendable {
    /// SIGKILL of the primary at a random instant under load: the backup must go live.
    case killPrimary = "kill-primary"
    /// SIGKILL of the backup: the primary must win the arbiter and go on alone.
    case killBackup = "kill-backup"
    /// One line silenced for longer than the timeout: reported, not acted on.
    case silenceLine = "silence-line"
    /// Both lines silenced while both hosts live: exactly one node may go on.
    case partition
    /// The arbiter stopped: nothing changes while the pair is healthy; a primary killed then is
    /// replaced only once the arbiter is back.
    case arbiterDown = "arbiter-down"
    /// The primary frozen (SIGSTOP) long enough for the backup to go live, then thawed: the old
    /// primary must release nothing more, lose the arbiter and stop.
    case freezePrimary = "freeze-primary"
}

/// What one round did and found.
public struct SoakRound: Sendable, CustomStringConvertible {
    public var fault: Fault
    public var seconds: Double
    public var acknowledgedWrites: Int
    public var lostWrites: [String]
    public var splitBrain: [String]
    /// Writes an old primary had decided under its lease that returned only after the new
    /// primary's first write: it was stopped in between (see ``ReleaseLogCheck``). Not failures.
    public var stalledWrites: [String] = []
    /// The longest time the client waited between two acknowledgements during the round.
    public var longestPause: Double
    public var survivor: String

    public var description: String {
        String(format: "%@: %.1f s, survivor %@, %d writes acknowledged in all, longest pause %.0f ms, %d lost, %d split-brain, %d stalled writes",
               fault.rawValue, seconds, survivor, acknowledgedWrites, longestPause * 1000, lostWrites.count, splitBrain.count,
               stalledWrites.count)
    }
}

/// Fault-injection rounds against a running two-node cluster under a continuous write load.
/// After every round the writer stops, every acknowledged write is read back, and the release log
/// is checked for two primaries releasing output at once (each finding is reported in the round
/// that found it, not again in later rounds).
public final class Soak {
    public let cluster: Cluster
    public let writer: BackgroundWriter
    public private(set) var rounds: [SoakRound] = []
    /// What the release log showed in earlier rounds.
    private var reported: Set<String> = []

    public init(options: Cluster.Options, directory: URL) throws {
        var options = options
        options.append = "console=ttyS0 quiet lockstep.service=kv"
        cluster = try Cluster(options: options, directory: directory)
        writer = try BackgroundWriter(endpoints: cluster.endpoints)
    }

    /// Starts the arbiter and both nodes, and the load.
    public func start() throws {
        try cluster.start()
        writer.start()
        try writer.waitForProgress(20, seconds: 60)
    }

    public func stop() {
        writer.stop()
        cluster.stop()
    }

    /// Injects `fault`, waits until the survivor serves again and a new backup is synchronised,
    /// then verifies. Throws only when the setup fails or the VM stops serving.
    @discardableResult
    public func round(_ fault: Fault, using random: inout some RandomNumberGenerator) throws -> SoakRound {
        let started = Date()
        writer.resetGap()
        guard let primary = cluster.primary, let backup = cluster.backup else {
            throw FaultInjectionError.setup("no primary and backup before the round\n\(cluster.logs)")
        }
        // A random instant under load.
        usleep(UInt32.random(in: 0...300_000, using: &random))
        var survivor = primary
        switch fault {
        case .killPrimary:
            cluster.nodes[primary].kill()
            survivor = backup
            try cluster.waitUntilLive(backup, seconds: 15)
            try writer.waitForProgress(10, seconds: 30)
            try cluster.rejoin(primary)
        case .killBackup:
            let offset = cluster.nodes[primary].log.count
            cluster.nodes[backup].kill()
            try cluster.nodes[primary].waitForLog("won the arbiter", after: offset, seconds: 15)
            try writer.waitForProgress(10, seconds: 30)
            try cluster.rejoin(backup)
        case .silenceLine:
            let line = Int.random(in: 0...1, using: &random)
            cluster.silence(line: line, true)
            let seconds = 3 * Double(cluster.options.heartbeatTimeoutMilliseconds) / 1000
            let deadline = Date(timeIntervalSinceNow: seconds)
            try writer.waitForProgress(10, seconds: 30)
            while Date() < deadline { usleep(20_000) }
            cluster.silence(line: line, false)
            guard cluster.primary == primary, cluster.backup == backup else {
                throw FaultInjectionError.setup("one silent line changed the roles\n\(cluster.logs)")
            }
            try writer.waitForProgress(10, seconds: 30)
        case .partition:
            cluster.silence(line: 0, true)
            cluster.silence(line: 1, true)
            let deadline = Date(timeIntervalSinceNow: 15)
            while cluster.nodes.allSatisfy(\.isRunning) && Date() < deadline { usleep(10_000) }
            guard let loser = cluster.nodes.indices.first(where: { !cluster.nodes[$0].isRunning }) else {
                throw FaultInjectionError.timeout("neither node stopped in a partition\n\(cluster.logs)")
            }
            survivor = 1 - loser
            cluster.silence(line: 0, false)
            cluster.silence(line: 1, false)
            guard cluster.nodes[loser].waitForExit(seconds: 0) == 2 else {
                throw FaultInjectionError.setup("the partition's loser did not stop with status 2\n\(cluster.logs)")
            }
            try cluster.waitUntilLive(survivor, seconds: 15)
            try writer.waitForProgress(10, seconds: 30)
            try cluster.rejoin(loser)
        case .freezePrimary:
            cluster.nodes[primary].freeze()
            survivor = backup
            do {
                try cluster.waitUntilLive(backup, seconds: 15)
            } catch {
                cluster.nodes[primary].resume()
                throw error
            }
            try writer.waitForProgress(5, seconds: 30)
            cluster.nodes[primary].resume()
            guard cluster.nodes[primary].waitForExit(seconds: 15) == 2 else {
                throw FaultInjectionError.setup("the thawed old primary did not stop with status 2\n\(cluster.logs)")
            }
            try writer.waitForProgress(5, seconds: 30)
            try cluster.rejoin(primary)
        case .arbiterDown:
            cluster.stopArbiter()
            try writer.waitForProgress(10, seconds: 30)
            cluster.nodes[primary].kill()
            survivor = backup
            Thread.sleep(forTimeInterval: 3 * Double(cluster.options.heartbeatTimeoutMilliseconds) / 1000)
            if cluster.arbiterCanStop && cluster.nodes[backup].log.contains("console on") {
                throw FaultInjectionError.setup("the backup went live without the arbiter\n\(cluster.logs)")
            }
            try cluster.startArbiter()
            try cluster.waitUntilLive(backup, seconds: 15)
            try writer.waitForProgress(10, seconds: 30)
            try cluster.rejoin(primary)
        }
        let pause = writer.longestGapSeconds
        writer.stop()
        let report = try writer.verify()
        let splitBrain = cluster.releaseViolations().filter { !reported.contains($0) }
        let stalled = cluster.stalledWrites().filter { !reported.contains($0) }
        reported.formUnion(splitBrain + stalled)
        var result = SoakRound(fault: fault, seconds: Date().timeIntervalSince(started), acknowledgedWrites: report.acknowledgedWrites,
                               lostWrites: report.lost.map { "\($0)" }, splitBrain: splitBrain,
                               longestPause: pause, survivor: cluster.nodes[survivor].name)
        result.stalledWrites = stalled
        rounds.append(result)
        writer.start()
        return result
    }
}
