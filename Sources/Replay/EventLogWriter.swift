#if canImport(Glibc)
import Glibc
#endif

/// Appends an event log to a file as a session runs. Each record is written (and flushed to the
/// kernel) as soon as it is added, so a crash loses at most the record being written.
public final class EventLogWriter {
    /// Why a log file cannot be written.
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write the event log \(path): \(reason)" }
    }

    public let path: String
    private let descriptor: Int32
    /// Bytes written so far.
    public private(set) var byteCount = 0

    /// Creates (or truncates) `path` and writes the header.
    public init(path: String, session: SessionDescription) throws(WriteError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        try write(EventLogWriter.headerBytes(session))
    }

    deinit { close(descriptor) }

    /// Appends one record.
    public func append(_ record: LogRecord) throws(WriteError) {
        try write(EventLogWriter.recordBytes(record))
    }

    /// Flushes the file to storage (after the end record).
    public func synchronize() {
        fsync(descriptor)
    }

    private func write(_ bytes: [UInt8]) throws(WriteError) {
        var start = 0
        while start < bytes.count {
            let written = bytes[start...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw WriteError(path: path, reason: String(cString: strerror(errno)))
            }
            start += written
        }
        byteCount += bytes.count
    }

    static func headerBytes(_ session: SessionDescription) -> [UInt8] {
        var w = ByteWriter()
        w.bytes = EventLogFormat.magic
        w.u16(EventLogFormat.version)
        let header = EventLogCoding.encode(session)
        w.data(header)
        w.u32(CRC32.checksum(header[...]))
        return w.bytes
    }

    static func recordBytes(_ record: LogRecord) -> [UInt8] {
        let payload = EventLogCoding.encode(record)
        var w = ByteWriter()
        w.u32(UInt32(payload.count))
        w.u32(CRC32.checksum(payload[...]))
        w.bytes += payload
        return w.bytes
    }
}
