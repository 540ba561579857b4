import Foundation

/// What a ``RedisWriter`` run saw: the writes, the stalls, whether its one connection survived,
/// and what the read-back found. Codable, so that a test running `lockstep-kv redis-load` as a
/// separate process can read it (`--json FILE`).
public struct RedisWriterSummary: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The server, `host:port`.
    public var endpoint: String
    /// The start of every key and value written.
    public var prefix: String
    /// The size of the key space.
    public var keys: Int
    /// How long the write phase lasted, in seconds.
    public var seconds: Double
    /// SETs sent (the last one may be unanswered when the connection failed).
    public var writesSent: Int
    /// SETs the server answered with `+OK`.
    public var acknowledgedWrites: Int
    /// Keys holding an acknowledged write.
    public var keysWritten: Int
    /// The longest time the writer waited for the server: the longest of
    /// ``longestGapMilliseconds`` and ``latencyMaxMilliseconds``.
    public var longestStallMilliseconds: Double
    /// The longest time between two consecutive acknowledgements.
    public var longestGapMilliseconds: Double
    /// Latencies of acknowledged SETs, from sending to `+OK`.
    public var latencyP50Milliseconds: Double
    public var latencyP99Milliseconds: Double
    public var latencyMaxMilliseconds: Double
    /// Acknowledgements in each second of the write phase (index 0: the first second).
    public var acknowledgedPerSecond: [Int]
    /// True when the one connection stayed usable for the whole write phase: it was made, never
    /// reset nor closed, and no reply came later than the request timeout.
    public var connectionKept: Bool
    /// What ended the write phase early, if anything (a lost connection, a timeout, a server's
    /// error reply).
    public var error: String?
    public var errorKind: RedisError.Kind?
    /// When that happened, in seconds after the write phase started.
    public var errorAfterSeconds: Double?
    /// True when every acknowledged key was read back.
    public var verified: Bool
    /// True when the read-back needed a new connection (the writer's had failed).
    public var verifiedOnNewConnection: Bool
    /// Keys read back.
    public var keysVerified: Int
    /// Acknowledged writes the server no longer holds (missing keys, older values).
    public var lostWrites: [LostWrite]
    /// Keys holding a value whose write was sent but never acknowledged (allowed).
    public var unacknowledgedApplied: Int
    /// Why the read-back did not complete, if it did not.
    public var verificationError: String?
    /// True when the connection was kept, no error ended the writes early, every acknowledged key
    /// was read back and none was lost: what `lockstep-kv redis-load` exits with status 0 for.
    public var passed: Bool

    /// The summary as pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads a summary written by ``json()``.
    public init(json: Data) throws {
        self = try JSONDecoder().decode(Self.self, from: json)
    }

    init(endpoint: String, prefix: String, keys: Int, seconds: Double, writesSent: Int, acknowledgedWrites: Int,
         keysWritten: Int, longestGap: Double, latencies: [Double], acknowledgedPerSecond: [Int], connectionKept: Bool,
         error: RedisError?, errorAfterSeconds: Double?, verification: VerificationReport?, keysVerified: Int,
         verifiedOnNewConnection: Bool, verificationError: RedisError?) {
        self.endpoint = endpoint
        self.prefix = prefix
        self.keys = keys
        self.seconds = seconds
        self.writesSent = writesSent
        self.acknowledgedWrites = acknowledgedWrites
        self.keysWritten = keysWritten
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))] * 1000
        }
        latencyP50Milliseconds = percentile(0.5)
        latencyP99Milliseconds = percentile(0.99)
        latencyMaxMilliseconds = (sorted.last ?? 0) * 1000
        longestGapMilliseconds = longestGap * 1000
        longestStallMilliseconds = max(longestGapMilliseconds, latencyMaxMilliseconds)
        self.acknowledgedPerSecond = acknowledgedPerSecond
        self.connectionKept = connectionKept
        self.error = error.map(\.description)
        errorKind = error?.kind
        self.errorAfterSeconds = errorAfterSeconds
        verified = verification != nil && verificationError == nil
        self.verifiedOnNewConnection = verifiedOnNewConnection
        self.keysVerified = keysVerified
        lostWrites = verification?.lost ?? []
        unacknowledgedApplied = verification?.unacknowledgedApplied ?? 0
        self.verificationError = verificationError.map(\.description)
        passed = connectionKept && error == nil && verified && lostWrites.isEmpty
    }

    public var description: String {
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        let rate = seconds > 0 ? Double(acknowledgedWrites) / seconds : 0
        var lines = [
            "endpoint:            \(endpoint) (keys \(prefix)-k0 ... \(prefix)-k\(max(0, keys - 1)))",
            "writes acknowledged: \(acknowledgedWrites) of \(writesSent) sent in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", rate)) per second), \(keysWritten) keys",
            "longest stall:       \(ms(longestStallMilliseconds)) (between two acknowledgements: \(ms(longestGapMilliseconds)))",
            "latency:             p50 \(ms(latencyP50Milliseconds)), p99 \(ms(latencyP99Milliseconds)), max \(ms(latencyMaxMilliseconds))",
            "connection kept:     \(connectionKept ? "yes" : "NO")",
        ]
        if let error {
            lines.append("error:               \(error) (after \(String(format: "%.3f", errorAfterSeconds ?? 0)) s)")
        }
        if verified {
            lines.append("verified:            \(keysVerified) keys\(verifiedOnNewConnection ? " (on a new connection)" : ""): "
                         + (lostWrites.isEmpty ? "none lost" : "\(lostWrites.count) LOST"))
        } else {
            lines.append("verified:            NO, \(keysVerified) keys read back before: \(verificationError ?? "not run")")
        }
        for lost in lostWrites.prefix(20) { lines.append("  lost: \(lost)") }
        if lostWrites.count > 20 { lines.append("  ... and \(lostWrites.count - 20) more") }
        if unacknowledgedApplied > 0 { lines.append("unacknowledged writes applied: \(unacknowledgedApplied) (allowed)") }
        lines.append(passed ? "PASSED" : "FAILED")
        return lines.joined(separator: "\n")
    }
}
