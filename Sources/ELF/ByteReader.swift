/// A bounds-checked little-endian reader over the bytes of a file.
///
/// Every read is checked against the end of the file with overflow-checked arithmetic, so a
/// hostile offset can never trap: a read that does not fit becomes `ELFError.truncated` naming
/// the structure that was being read. Offsets are `UInt64` because that is what ELF stores; they
/// are converted to `Int` only after they are known to lie inside the file.
struct ByteReader: Sendable {
    /// The whole file.
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The file's length in bytes.
    var count: Int { bytes.count }

    /// Returns the `Int` range `offset ..< offset + length` if it lies entirely inside the file,
    /// or `nil` if it does not (including when `offset + length` overflows).
    func range(offset: UInt64, length: UInt64) -> Range<Int>? {
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= UInt64(bytes.count) else { return nil }
        // Both values are now <= bytes.count, which fits in Int.
        return Int(offset) ..< Int(end)
    }

    /// Like `range(offset:length:)`, but a range outside the file throws `.truncated(region, …)`.
    func require(_ region: ELFRegion, offset: UInt64, length: UInt64) throws(ELFError) -> Range<Int> {
        guard let r = range(offset: offset, length: length) else {
            throw .truncated(region, offset: offset, length: length, fileSize: bytes.count)
        }
        return r
    }

    /// Reads one byte at `offset`.
    func u8(at offset: UInt64, in region: ELFRegion) throws(ELFError) -> UInt8 {
        let r = try require(region, offset: offset, length: 1)
        return bytes[r.lowerBound]
    }

    /// Reads a little-endian `UInt16` at `offset`.
    func u16(at offset: UInt64, in region: ELFRegion) throws(ELFError) -> UInt16 {
        UInt16(truncatingIfNeeded: try little(offset, 2, region))
    }

    /// Reads a little-endian `UInt32` at `offset`.
    func u32(at offset: UInt64, in region: ELFRegion) throws(ELFError) -> UInt32 {
        UInt32(truncatingIfNeeded: try little(offset, 4, region))
    }

    /// Reads a little-endian `UInt64` at `offset`.
    func u64(at offset: UInt64, in region: ELFRegion) throws(ELFError) -> UInt64 {
        try little(offset, 8, region)
    }

    /// The field at `base + fieldOffset`, where the addition itself is overflow-checked.
    static func field(_ base: UInt64, _ fieldOffset: UInt64) -> UInt64 {
        // An overflowing address saturates; any read there then reports truncation.
        let (sum, overflow) = base.addingReportingOverflow(fieldOffset)
        return overflow ? UInt64.max : sum
    }

    /// Whether the bytes at `offset` equal `expected`, with `offset` already checked to be
    /// inside the file; bytes past the end of `range` never match.
    func matches(_ expected: [UInt8], at offset: Int, within range: Range<Int>) -> Bool {
        guard offset >= range.lowerBound, offset <= range.upperBound,
              range.upperBound - offset >= expected.count else { return false }
        var i = offset
        for b in expected {
            if bytes[i] != b { return false }
            i += 1
        }
        return true
    }

    private func little(_ offset: UInt64, _ width: UInt64, _ region: ELFRegion) throws(ELFError) -> UInt64 {
        let r = try require(region, offset: offset, length: width)
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for i in r {
            value |= UInt64(bytes[i]) << shift
            shift += 8
        }
        return value
    }
}
