/// One loadable (`PT_LOAD`) segment of an ELF executable: `fileSize` bytes from the file, placed
/// at `physicalAddress` (and seen by the program at `virtualAddress`), followed by
/// `memorySize - fileSize` zero bytes.
///
/// `ELFFile` guarantees `data.count == fileSize`, `fileSize <= memorySize`, `memorySize > 0`,
/// and that `address + memorySize` does not overflow for either address. Whether the segment
/// fits in the emulated machine's RAM is for the loader to check.
public struct ProgramSegment: Sendable, Equatable {
    /// `p_paddr`: where the segment's bytes are loaded (the load memory address).
    public let physicalAddress: UInt64
    /// `p_vaddr`: where the program expects the segment to be.
    public let virtualAddress: UInt64
    /// `p_filesz`: how many bytes come from the file (`data.count`).
    public let fileSize: UInt64
    /// `p_memsz`: the size in memory; the bytes after `fileSize` are zero (e.g. `.bss`).
    public let memorySize: UInt64
    /// `p_flags`: the access the segment asks for.
    public let flags: Flags
    /// The segment's bytes from the file, `fileSize` long, indexed from 0.
    public let data: [UInt8]

    /// Creates a segment. `ELFFile` is the usual source; this is public for tests and tools.
    public init(physicalAddress: UInt64, virtualAddress: UInt64, fileSize: UInt64,
                memorySize: UInt64, flags: Flags, data: [UInt8]) {
        self.physicalAddress = physicalAddress
        self.virtualAddress = virtualAddress
        self.fileSize = fileSize
        self.memorySize = memorySize
        self.flags = flags
        self.data = data
    }

    /// A segment's access permissions (`PF_R`, `PF_W`, `PF_X`).
    public struct Flags: OptionSet, Sendable, Hashable, CustomStringConvertible {
        /// The `PF_R | PF_W | PF_X` bits of `p_flags` (other bits are dropped).
        public let rawValue: UInt32

        /// Keeps only the read/write/execute bits of `rawValue`.
        public init(rawValue: UInt32) {
            self.rawValue = rawValue & 0b111
        }

        /// `PF_X` (1): the segment holds code.
        public static let executable = Flags(rawValue: 1)
        /// `PF_W` (2): the segment may be written.
        public static let writable = Flags(rawValue: 2)
        /// `PF_R` (4): the segment may be read.
        public static let readable = Flags(rawValue: 4)

        /// In `readelf` style: "R E", "RW ", "RWE", …
        public var description: String {
            (contains(.readable) ? "R" : " ") + (contains(.writable) ? "W" : " ")
                + (contains(.executable) ? "E" : " ")
        }
    }
}
