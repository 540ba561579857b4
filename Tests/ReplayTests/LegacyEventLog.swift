@testable import Replay

/// Event logs as formats 3 to 5 wrote them, made from today's values, for the tests of what
/// this build still reads: their session descriptions have no MAC address, and the checkpoints
/// of formats 3 and 4 end after the output digest (no disk part).
enum LegacyEventLog {
    /// `session` as formats 4 and 5 encoded it: format 6's without the MAC address after the
    /// entropy seed (at bytes 24 to 29).
    static func sessionBytes(_ session: SessionDescription) -> [UInt8] {
        var bytes = EventLogCoding.encode(session)
        bytes.removeSubrange(24..<30)
        return bytes
    }

    /// The file header (magic, version, session description) of a log of format `version` (4 or 5).
    static func headerBytes(_ session: SessionDescription, version: UInt16) -> [UInt8] {
        var w = ByteWriter()
        w.bytes = EventLogFormat.magic
        w.u16(version)
        let header = sessionBytes(session)
        w.data(header)
        w.u32(CRC32.checksum(header[...]))
        return w.bytes
    }

    /// `log` in format 5 (its checkpoints are format 6's).
    static func format5(_ log: EventLog) -> [UInt8] {
        headerBytes(log.session, version: 5) + log.records.flatMap(EventLogWriter.recordBytes)
    }

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
        headerBytes(log.session, version: 4) + log.records.flatMap(recordBytes)
    }

    /// `record` as a reader of a format-3 or -4 log sees it: a checkpoint that does not cover the disks.
    static func asRead(_ record: LogRecord) -> LogRecord {
        guard case .checkpoint(var checkpoint) = record else { return record }
        checkpoint.state.disks = nil
        return .checkpoint(checkpoint)
    }
}
