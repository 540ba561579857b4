extension LogRecord {
    /// The record as the event log stores it (kind byte, then the payload; no framing), for
    /// carrying records elsewhere, such as the replication logging channel.
    public var encoded: [UInt8] { EventLogCoding.encode(self) }

    /// Decodes a record from ``encoded`` bytes; every byte must be used.
    public init(encoded bytes: [UInt8]) throws(EventLogError) {
        var reader = ByteReader(bytes)
        self = try EventLogCoding.decodeRecord(&reader)
        guard reader.atEnd else { throw .malformed(offset: reader.offset, what: "\(bytes.count - reader.offset) bytes after the record") }
    }
}
