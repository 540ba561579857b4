/// A complete event log read from bytes: the session it started from and its records in order.
public struct EventLog: Equatable, Sendable {
    public var session: SessionDescription
    public var records: [LogRecord]

    public init(session: SessionDescription, records: [LogRecord]) {
        self.session = session
        self.records = records
    }

    /// How the session ended.
    public var end: SessionEnd? {
        if case .end(let end)? = records.last { return end }
        return nil
    }

    /// Parses and checks a whole log: magic, version, checksums, record order, the end record.
    /// Never traps on bad input: every problem is an ``EventLogError`` naming the offset.
    public init(bytes: [UInt8]) throws(EventLogError) {
        guard bytes.count >= EventLogFormat.magic.count, Array(bytes[0..<EventLogFormat.magic.count]) == EventLogFormat.magic else {
            throw .notAnEventLog
        }
        var r = ByteReader(bytes, from: EventLogFormat.magic.count)
        let version = try r.u16("the format version")
        guard EventLogFormat.readableVersions.contains(version) else { throw .unsupportedVersion(version) }

        let headerLengthOffset = r.offset
        let headerLength = try r.u32("the header length")
        guard Int(headerLength) <= EventLogFormat.maximumPayload else {
            throw .malformed(offset: headerLengthOffset, what: "the header claims \(headerLength) bytes")
        }
        let headerStart = r.offset
        let header = try r.take(Int(headerLength), "the session header")
        let headerCRC = try r.u32("the header checksum")
        guard CRC32.checksum(header) == headerCRC else { throw .checksumMismatch(offset: headerStart, what: "session header") }
        var headerReader = ByteReader(bytes, from: headerStart, to: headerStart + Int(headerLength))
        let session = try EventLogCoding.decodeSession(&headerReader, version: version)
        guard headerReader.atEnd else { throw .malformed(offset: headerReader.offset, what: "extra bytes in the session header") }

        var records: [LogRecord] = []
        var lastCount: UInt64 = 0
        while !r.atEnd {
            let recordOffset = r.offset
            let length = try r.u32("a record length")
            guard length >= 1, Int(length) <= EventLogFormat.maximumPayload else {
                throw .malformed(offset: recordOffset, what: "a record claims \(length) bytes")
            }
            let crc = try r.u32("a record checksum")
            let payloadStart = r.offset
            let payload = try r.take(Int(length), "a record of \(length) bytes")
            guard CRC32.checksum(payload) == crc else { throw .checksumMismatch(offset: recordOffset, what: "record") }
            var recordReader = ByteReader(bytes, from: payloadStart, to: payloadStart + Int(length))
            let record = try EventLogCoding.decodeRecord(&recordReader, version: version)
            guard recordReader.atEnd else { throw .malformed(offset: recordReader.offset, what: "extra bytes in a record") }
            let count: UInt64
            switch record {
            case .event(let event): count = event.instructionCount
            case .checkpoint(let checkpoint): count = checkpoint.instructionCount
            case .end(let end): count = end.instructionCount
            }
            guard count >= lastCount else { throw .outOfOrder(offset: recordOffset, count: count, previous: lastCount) }
            if case .end? = records.last { throw .malformed(offset: recordOffset, what: "a record after the end record") }
            lastCount = count
            records.append(record)
        }
        guard case .end? = records.last else { throw .missingEnd(offset: r.offset) }
        self.session = session
        self.records = records
    }

    /// The log's bytes, in the current format (a log read from an older version is written as
    /// the current one; its checkpoints keep saying that they do not cover the disks).
    public func encoded() -> [UInt8] {
        var bytes = EventLogWriter.headerBytes(session)
        for record in records { bytes += EventLogWriter.recordBytes(record) }
        return bytes
    }
}
