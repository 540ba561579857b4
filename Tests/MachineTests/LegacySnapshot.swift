import Machine

/// Snapshots as older formats wrote them, made from today's, for the tests of what this build
/// still reads.
enum LegacySnapshot {
    /// `snapshot` (format 5) as format 4 wrote it: version 4, and `CONF` without the MAC address
    /// that ends it in format 5.
    static func format4(_ snapshot: [UInt8]) -> [UInt8] {
        var bytes = withVersion(snapshot, 4)
        let configuration = SnapshotCorruptionTests.sections(bytes).first { $0.tag == "CONF" }!
        let payload = configuration.payload.lowerBound..<(configuration.payload.upperBound - 6)
        bytes.removeSubrange(payload.upperBound..<configuration.payload.upperBound)
        setLength(&bytes, checksumAt: configuration.checksumAt, payload.count)
        SnapshotCorruptionTests.fixChecksum(&bytes, checksumAt: configuration.checksumAt, payload: payload)
        return bytes
    }

    /// `snapshot` with `version` in its header (and the header's CRC made right).
    static func withVersion(_ snapshot: [UInt8], _ version: UInt32) -> [UInt8] {
        var bytes = snapshot
        bytes.replaceSubrange(8..<12, with: le(version, count: 4))
        bytes.replaceSubrange(16..<20, with: le(CRC32.checksum(Array(bytes[0..<16])), count: 4))
        return bytes
    }

    /// Writes the length of the section whose CRC is at `checksumAt` (the u64 before it).
    static func setLength(_ bytes: inout [UInt8], checksumAt: Int, _ length: Int) {
        bytes.replaceSubrange((checksumAt - 8)..<checksumAt, with: le(UInt64(length), count: 8))
    }

    static func le<T: FixedWidthInteger>(_ value: T, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
