/// The translated blocks, direct-mapped by the RAM offset (physical address) of their first
/// instruction, in a C layout that generated code reads as well as Swift (the inline lookup of
/// indirect jumps and exits to other pages, see ``BlockTranslator``).
///
/// Each entry is 32 bytes: the RAM offset (`UInt64`, `.max` when empty), the virtual pc the
/// block was translated at (`UInt64`), the page's code version then (`UInt32`, then 4 bytes of
/// padding) and the host address of the block's code (`UInt64`; for an instruction the
/// translator does not handle, the address of the interpreter stub, which returns `.next`). An
/// entry is valid only while the fetch TLB maps the pc to that RAM offset and the page's code
/// version is the one recorded (checked at every lookup). A collision replaces the entry.
///
/// Not `Sendable`: one accelerator (one thread) owns it; allocated in `init`, freed by
/// ``deallocate()``.
struct BlockTable {
    static let entries = 1 << 16
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

    /// The entry's byte offset from ``base`` for a RAM offset (generated code computes the same:
    /// `((ramOffset >> 1) & (entries - 1)) * entryBytes`).
    static func entryOffset(ramOffset: UInt64) -> Int {
        Int(truncatingIfNeeded: (ramOffset >> 1) & UInt64(entries - 1)) * entryBytes
    }

    /// The host address of the code recorded for exactly this RAM offset, pc and version, if any.
    func code(ramOffset: UInt64, pc: UInt64, version: UInt32) -> UInt? {
        let entry = UnsafeRawPointer(base + Self.entryOffset(ramOffset: ramOffset))
        guard entry.load(fromByteOffset: Self.ramOffsetField, as: UInt64.self) == ramOffset,
              entry.load(fromByteOffset: Self.pcField, as: UInt64.self) == pc,
              entry.load(fromByteOffset: Self.versionField, as: UInt32.self) == version else { return nil }
        return UInt(entry.load(fromByteOffset: Self.codeField, as: UInt64.self))
    }

    /// Records `code` (a host address) for the RAM offset, pc and version, replacing the entry there.
    func record(ramOffset: UInt64, pc: UInt64, version: UInt32, code: UInt) {
        let entry = base + Self.entryOffset(ramOffset: ramOffset)
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
