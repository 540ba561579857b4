@testable import Replay

/// Event logs as formats 3 and 4 wrote them, made from today's values, for the tests of what
/// this build still reads: their checkpoints end after the output digest (no disk part).
enum LegacyEventLog {
    /// A record as formats 3 and 4 framed it: a checkpoint without its disk part.
    static func recordBytes(_ record: LogRecord) -> [UInt8] {
        var payload = EventLogCoding.encode(record)
        if case .checkpoint(let checkpoint) = record {
            // The disk part ends the encoding: the flag, and with disks their count and digests.
            payload.removeLast(checkpoint.state.disks.map { 1 + 4 + 8 * $0.count } ?? 1)
        }
        var w = ByteWriter()
        w.u32(UInt32(payload.count))
        w.u32(CRC32.checksum(payload[...]))
        w.bytes += payload
        return w.bytes
    }

    /// `log` in format 4 (its session header is the same as format 5's).
    static func format4(_ log: EventLog) -> [UInt8] {
        var bytes = EventLogWriter.headerBytes(log.session)
        bytes[8] = 4
        bytes[9] = 0
        for record in log.records { bytes += recordBytes(record) }
        return bytes
    }

    /// `record` as a reader of a format-3 or -4 log sees it: a checkpoint that does not cover the disks.
    static func asRead(_ record: LogRecord) -> LogRecord {
        guard case .checkpoint(var checkpoint) = record else { return record }
        checkpoint.state.disks = nil
        return .checkpoint(checkpoint)
    }
}
