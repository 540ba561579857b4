/// What a client was told: every acknowledged write (key -> the last value acknowledged for it),
/// so that a later read-back shows whether the service lost or reverted any of them.
///
/// Record a write with ``willWrite(key:value:)`` before sending it and
/// ``acknowledged(key:value:)`` once it is acknowledged (``write(_:_:using:)`` does both). A write
/// whose outcome is unknown (the request failed) may or may not have been applied: the key may
/// then hold that value or the last acknowledged one, and both are correct. Give every write a new
/// value (for example the client's name and a counter) so that a reverted write is visible.
public struct Ledger: Sendable, Equatable {
    /// Key -> the last value acknowledged for it.
    public private(set) var values: [String: String] = [:]
    /// Key -> values sent after the last acknowledgement whose outcome is unknown.
    public private(set) var unacknowledged: [String: [String]] = [:]
    /// How many writes were acknowledged.
    public internal(set) var acknowledgedWrites = 0

    public init() {}

    /// How many keys have an acknowledged value.
    public var keyCount: Int { values.count }

    /// Notes that `value` is about to be written to `key`.
    public mutating func willWrite(key: String, value: String) {
        unacknowledged[key, default: []].append(value)
    }

    /// Notes that the service acknowledged writing `value` to `key`.
    public mutating func acknowledged(key: String, value: String) {
        values[key] = value
        unacknowledged[key] = nil
        acknowledgedWrites += 1
    }

    /// Writes `value` to `key` through `client` and records it.
    public mutating func write(_ key: String, _ value: String, using client: KVClient) throws(KVError) {
        willWrite(key: key, value: value)
        try client.set(key, to: value)
        acknowledged(key: key, value: value)
    }

    /// Whether `found` (what the service holds for `key`) is consistent with what was
    /// acknowledged: the last acknowledged value, or a later write with an unknown outcome.
    /// Returns the lost write when it is not.
    public func check(key: String, found: String?) -> LostWrite? {
        guard let expected = values[key] else { return nil }
        if found == expected { return nil }
        if let found, unacknowledged[key]?.contains(found) == true { return nil }
        return LostWrite(key: key, acknowledged: expected, found: found)
    }

    /// Reads every key with an acknowledged value back through `client` and reports the writes
    /// that were lost or reverted.
    public func verify(using client: KVClient) throws(KVError) -> VerificationReport {
        try verify { key throws(KVError) in try client.get(key) }
    }

    /// Reads every key with an acknowledged value back with `read` (the key's value, nil when it
    /// has none) and reports the writes that were lost or reverted: the check of any store.
    public func verify<Failure: Error>(reading read: (String) throws(Failure) -> String?) throws(Failure) -> VerificationReport {
        var report = VerificationReport(acknowledgedWrites: acknowledgedWrites)
        for key in values.keys.sorted() {
            let found = try read(key)
            report.keysChecked += 1
            if let lost = check(key: key, found: found) {
                report.lost.append(lost)
            } else if found != values[key] {
                report.unacknowledgedApplied += 1
            }
        }
        return report
    }

    /// Adds another ledger's writes (of other keys: each client writes keys of its own).
    public mutating func merge(_ other: Ledger) {
        values.merge(other.values) { $1 }
        unacknowledged.merge(other.unacknowledged) { $0 + $1 }
        acknowledgedWrites += other.acknowledgedWrites
    }
}
