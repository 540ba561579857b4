/// Reads what a ``StateWriter`` wrote: little-endian fields in order, each read checked.
///
/// Every read names what it expects; running out of data throws ``SnapshotError/truncated`` with
/// the byte offset (counted from the start of the whole snapshot, also for a reader of one
/// section) and what was being read. A value no snapshot can hold is reported with
/// ``invalid(_:)``, which points at the field just read. Nothing here traps on bad input.
public struct StateReader {
    private let bytes: [UInt8]
    /// Offset of the next byte to read, from the start of the buffer.
    public private(set) var offset: Int
    /// End of the readable range.
    public let end: Int
    /// Offset of the field read last (for ``invalid(_:)``).
    public private(set) var fieldOffset: Int

    /// A reader of all of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.init(bytes, range: 0..<bytes.count)
    }

    /// A reader of `range` of `bytes`; offsets stay relative to the start of `bytes`.
    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
        fieldOffset = range.lowerBound
    }

    /// Bytes left to read.
    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset == end }

    /// An error about the field read last: `what` says what is wrong with it.
    public func invalid(_ what: String) -> SnapshotError {
        .invalidValue(offset: fieldOffset, what: what)
    }

    /// Takes `count` bytes, returning their range in the buffer.
    private mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws(SnapshotError) -> Range<Int> {
        guard count >= 0, count <= remaining else {
            throw .truncated(offset: offset, expected: what(), needed: count, available: remaining)
        }
        fieldOffset = offset
        offset += count
        return fieldOffset..<offset
    }

    private mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws(SnapshotError) -> T {
        let range = try take(MemoryLayout<T>.size, what())
        return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: range.lowerBound, as: T.self)) }
    }

    public mutating func readUInt8(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt8 {
        try load(UInt8.self, what())
    }

    public mutating func readUInt16(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt16 {
        try load(UInt16.self, what())
    }

    public mutating func readUInt32(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt32 {
        try load(UInt32.self, what())
    }

    public mutating func readUInt64(_ what: @autoclosure () -> String) throws(SnapshotError) -> UInt64 {
        try load(UInt64.self, what())
    }

    /// A byte that must be 0 or 1.
    public mutating func readBool(_ what: @autoclosure () -> String) throws(SnapshotError) -> Bool {
        let byte = try load(UInt8.self, what())
        guard byte <= 1 else { throw invalid("\(what()) is \(byte), expected 0 or 1") }
        return byte == 1
    }

    /// `count` raw bytes.
    public mutating func readBytes(count: Int, _ what: @autoclosure () -> String) throws(SnapshotError) -> ArraySlice<UInt8> {
        bytes[try take(count, what())]
    }

    /// A 32-bit length, at most `maximum`, then that many bytes.
    public mutating func readLengthPrefixed(maximum: Int, _ what: @autoclosure () -> String) throws(SnapshotError) -> ArraySlice<UInt8> {
        let length = Int(try readUInt32("length of \(what())"))
        guard length <= maximum else { throw invalid("length of \(what()) is \(length), at most \(maximum) allowed") }
        return try readBytes(count: length, what())
    }

    /// A length-prefixed UTF-8 string of at most `maximumLength` bytes (bad UTF-8 is replaced).
    public mutating func readString(maximumLength: Int, _ what: @autoclosure () -> String) throws(SnapshotError) -> String {
        String(decoding: try readLengthPrefixed(maximum: maximumLength, what()), as: UTF8.self)
    }

    /// A count stored in 32 bits that must not exceed `maximum`.
    public mutating func readCount(maximum: Int, _ what: @autoclosure () -> String) throws(SnapshotError) -> Int {
        let value = Int(try readUInt32(what()))
        guard value <= maximum else { throw invalid("\(what()) is \(value), at most \(maximum) allowed") }
        return value
    }

    /// A reader of the next `count` bytes, which this reader skips.
    public mutating func subReader(count: Int, _ what: @autoclosure () -> String) throws(SnapshotError) -> StateReader {
        let range = try take(count, what())
        return StateReader(bytes, range: range)
    }

    /// Throws unless everything was read.
    public func expectEnd(_ what: @autoclosure () -> String) throws(SnapshotError) {
        guard isAtEnd else { throw .trailingBytes(offset: offset, what: what(), count: remaining) }
    }

    /// Calls `body` with the bytes of `range` (inside the buffer; from ``readBytes(count:_:)``).
    func withBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}
