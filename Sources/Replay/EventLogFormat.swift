/// The event-log file format, version 6 (all integers little-endian):
///
///     magic      8 bytes  "LSTPLOG\0"
///     version    u16      6
///     header     u32 length, then that many bytes, then u32 CRC-32 of them (the session description)
///     records    each: u32 payload length, u32 CRC-32 of kind + payload, u8 kind, payload
///
/// Record kinds: 1 event (u64 count, u8 input kind, input data), 3 end (u64 count, u64 state hash,
/// u64 output bytes, u64 output digest, u8 stop, i32 code), 4 checkpoint (``Checkpoint``: u64
/// count, u32 part count, each part a string name and a u64 digest, u64 RAM region size, u64 RAM
/// base, u32 region count, a u64 digest per region, u64 output count, u64 output bytes, u64 output
/// digest, then the disk part: u8 0 none, or u8 1, u32 disk count, a u64 content digest per disk).
/// Version 1 had kind 2, a bare state hash, where version 2 has checkpoints. Version 3
/// added input kind 5 and the machine state its hashes cover grew (snapshot format 3: the boot
/// image's digest and the reset request), so a version-2 log cannot be replayed. Version 4 lists
/// the disks in the header (a u32 count, at most 4, then per disk its path, size and hash) where
/// version 3 had a presence flag and one disk. Version 5 adds the disk part to checkpoints (each
/// disk's ``DiskContentDigest``, so a replay finds a disk that differs at the next checkpoint);
/// the checkpoints of versions 3 and 4 end after the output digest, and this build still reads
/// them (their state digests do not cover the disks, which are then compared only through the
/// end record's state hash). Version 6 adds the network card's MAC address (6 bytes) to the
/// session description, after the entropy seed; a log of versions 3 to 5 was recorded on a
/// machine with ``VirtioNetwork/defaultMAC``.
/// Input kinds: 1 console bytes (u32 length + bytes), 2 network frame (same), 3 time advance (u64),
/// 4 network announcement (no data), 5 reboot (no data).
/// Strings are u32 length + UTF-8. Optional values have a u8 presence flag.
public enum EventLogFormat {
    public static let magic: [UInt8] = Array("LSTPLOG\0".utf8)
    public static let version: UInt16 = 6
    /// The versions this build reads.
    public static let readableVersions: ClosedRange<UInt16> = 3...6
    /// The first version whose checkpoints carry the disk part.
    static let checkpointDisksVersion: UInt16 = 5
    /// The first version whose session description holds the MAC address.
    static let macVersion: UInt16 = 6

    enum RecordKind: UInt8 {
        case event = 1
        case end = 3
        case checkpoint = 4
    }

    enum InputKind: UInt8 {
        case consoleBytes = 1
        case networkFrame = 2
        case timeAdvance = 3
        case networkAnnounce = 4
        case reboot = 5
    }

    /// Largest record payload a reader accepts (a frame or a burst of typed input is far smaller).
    static let maximumPayload = 16 << 20
}

/// CRC-32 (IEEE 802.3, reflected, as in zlib).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Little-endian encoding into a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt16(i)))) } }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func data(_ v: [UInt8]) { u32(UInt32(v.count)); bytes.append(contentsOf: v) }
    mutating func string(_ v: String) { data(Array(v.utf8)) }
}

/// Little-endian decoding with typed errors that name the offset.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from offset: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var atEnd: Bool { offset >= end }

    mutating func take(_ count: Int, _ what: String) throws(EventLogError) -> ArraySlice<UInt8> {
        guard count >= 0, end - offset >= count else { throw .truncated(offset: offset, expected: what) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func u8(_ what: String) throws(EventLogError) -> UInt8 { try take(1, what).first! }
    mutating func u16(_ what: String) throws(EventLogError) -> UInt16 {
        try take(2, what).reversed().reduce(0) { $0 << 8 | UInt16($1) }
    }
    mutating func u32(_ what: String) throws(EventLogError) -> UInt32 {
        try take(4, what).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func u64(_ what: String) throws(EventLogError) -> UInt64 {
        try take(8, what).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func data(_ what: String) throws(EventLogError) -> [UInt8] {
        let start = offset
        let count = try u32("the length of \(what)")
        guard Int(count) <= EventLogFormat.maximumPayload else {
            throw .malformed(offset: start, what: "\(what) claims \(count) bytes")
        }
        return Array(try take(Int(count), what))
    }
    mutating func string(_ what: String) throws(EventLogError) -> String {
        let start = offset
        let raw = try data(what)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw .malformed(offset: start, what: "\(what) is not UTF-8")
        }
        return text
    }
}
