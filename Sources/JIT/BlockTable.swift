/// The translated blocks, by the RAM offset (physical address) of their first instruction, in
/// sets of two entries (a set is 64 bytes, one cache line), in a C layout that generated code
/// reads as well as Swift (the inline lookup of indirect jumps and exits to other pages, see
/// ``BlockTranslator``).
///
/// Each entry is 32 bytes: the RAM offset (`UInt64`, `.max` when empty), the virtual pc the
/// block was translated at (`UInt64`), the page's code version then (`UInt32`, then 4 bytes of
/// padding) and the host address of the block's code (`UInt64`; for an instruction the
/// translator does not handle, the address of the interpreter stub, which returns `.next`). An
/// entry is valid only while the fetch TLB maps the pc to that RAM offset and the page's code
/// version is the one recorded (checked at every lookup). A third block in a set replaces the
/// one in the second way (``record(ramOffset:pc:version:code:)``).
///
/// Not `Sendable`: one accelerator (one thread) owns it; allocated in `init`, freed by
/// ``deallocate()``.
struct BlockTable {
    static let entries = ways << setBits
    static let entryBytes = 32
    static let ramOffsetField = 0, pcField = 8, versionField = 16, codeField = 24

    /// The first entry. Sound to access for `entries * entryBytes` bytes until ``deallocate()``.
    let base: UnsafeMutableRawPointer

    init() {
        base = .allocate(byteCount: Self.entries * Self.entryBytes, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.entries * Self.entryBytes)
        clear()
    }

    func deallocate() { base.deallocate() }

    /// Entries per set: a block is looked for in both entries of its set.
    static let ways = 2
    /// log2 of the number of sets.
    static let setBits = 17
    /// The multiplier of the index hash (2^32 divided by the golden ratio, odd).
    static let hashMultiplier: UInt32 = 0x9E37_79B1

    /// The byte offset from ``base`` of the set of a RAM offset: the parcel number (the low 32
    /// bits of `ramOffset >> 1`) times ``hashMultiplier``, its top ``setBits`` bits, times the
    /// set's bytes (generated code computes the same).
    ///
    /// The table once took the parcel number's low bits, with 65,536 entries: blocks whose RAM
    /// offsets were a multiple of 128 KiB apart shared an entry, and a kernel's and a server's
    /// code spread over megabytes of RAM; each took the other's entry in turn, ran a few times on
    /// the interpreter and was translated again. A Redis server under load translated 40,000
    /// blocks in 40,000 requests, and 107,000 in 120,000: two thirds of the lookups that found
    /// nothing found another block's entry. Multiplicative hashing spreads pages that are far
    /// apart over the whole table.
    static func entryOffset(ramOffset: UInt64) -> Int {
        set(ramOffset: ramOffset) * ways * entryBytes
    }

    /// The number of sets.
    static let sets = 1 << setBits

    /// The set of a RAM offset, 0..<``sets`` (see ``entryOffset(ramOffset:)``).
    static func set(ramOffset: UInt64) -> Int {
        let parcel = UInt32(truncatingIfNeeded: ramOffset >> 1)
        return Int((parcel &* hashMultiplier) >> UInt32(32 - setBits))
    }

    /// Whether the entry at `entry` is for this RAM offset and pc (at any version).
    private static func holds(_ entry: UnsafeRawPointer, ramOffset: UInt64, pc: UInt64) -> Bool {
        entry.load(fromByteOffset: ramOffsetField, as: UInt64.self) == ramOffset
            && entry.load(fromByteOffset: pcField, as: UInt64.self) == pc
    }

    /// The host address of the code recorded for exactly this RAM offset, pc and version, if any.
    func code(ramOffset: UInt64, pc: UInt64, version: UInt32) -> UInt? {
        let set = UnsafeRawPointer(base + Self.entryOffset(ramOffset: ramOffset))
        for way in 0..<Self.ways {
            let entry = set + way * Self.entryBytes
            guard Self.holds(entry, ramOffset: ramOffset, pc: pc) else { continue }
            guard entry.load(fromByteOffset: Self.versionField, as: UInt32.self) == version else { return nil }
            return UInt(entry.load(fromByteOffset: Self.codeField, as: UInt64.self))
        }
        return nil
    }

    /// Records `code` (a host address) for the RAM offset, pc and version: in place of the
    /// entry for the same RAM offset and pc (so that a key is in one way at most), else in the
    /// first way, whose entry moves to the second (the one there goes).
    func record(ramOffset: UInt64, pc: UInt64, version: UInt32, code: UInt) {
        let set = base + Self.entryOffset(ramOffset: ramOffset)
        let second = set + Self.entryBytes
        var entry = set
        if Self.holds(second, ramOffset: ramOffset, pc: pc) {
            entry = second
        } else if !Self.holds(set, ramOffset: ramOffset, pc: pc) {
            second.copyMemory(from: set, byteCount: Self.entryBytes)
        }
        entry.storeBytes(of: ramOffset, toByteOffset: Self.ramOffsetField, as: UInt64.self)
        entry.storeBytes(of: pc, toByteOffset: Self.pcField, as: UInt64.self)
        entry.storeBytes(of: version, toByteOffset: Self.versionField, as: UInt32.self)
        entry.storeBytes(of: UInt64(code), toByteOffset: Self.codeField, as: UInt64.self)
    }

    /// Empties every entry.
    func clear() {
        for index in 0 ..< Self.entries {
            (base + index * Self.entryBytes).storeBytes(of: UInt64.max, toByteOffset: Self.ramOffsetField, as: UInt64.self)
        }
    }
}
