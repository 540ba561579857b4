/// A 64-bit little-endian RISC-V ELF executable, parsed and validated for loading into an
/// emulated machine.
///
/// Parsing never traps: any malformed input (truncated, corrupt, hostile, or simply the wrong
/// kind of file) throws an `ELFError` whose description says what is wrong and what to do.
/// A successfully parsed file satisfies:
/// - it is `ELFCLASS64`, little-endian, `EM_RISCV`, `ET_EXEC`, and has no `PT_INTERP`;
/// - `segments` is non-empty; every segment's bytes lie inside the file, `fileSize <= memorySize`,
///   neither address range wraps around 2⁶⁴, and no two segments overlap in virtual or in
///   physical address space;
/// - `entry` lies inside a segment (by virtual address).
///
/// Whether the segments fit into the machine's RAM is the loader's business, not this type's.
public struct ELFFile: Sendable {
    /// `e_entry`: the virtual address of the first instruction to execute.
    public let entry: UInt64
    /// The `PT_LOAD` segments with a non-zero memory size, in program header order.
    public let segments: [ProgramSegment]
    /// The `.symtab` symbols (empty if the file was stripped).
    private let symbols: SymbolTable

    /// Parses and validates an ELF executable held in memory.
    ///
    /// - Throws: `ELFError` describing the first problem found.
    public init(bytes: [UInt8]) throws(ELFError) {
        let reader = ByteReader(bytes)
        let header = try FileHeader(reader)

        // Extended numbering: with more than 0xfffe program headers or 0xff00 sections, the real
        // counts live in section header 0 (sh_info and sh_size respectively).
        var programCount = UInt64(header.programCount)
        var sectionCount = header.sectionTableOffset == 0 ? 0 : UInt64(header.sectionCount)
        let pnXNum: UInt16 = 0xffff
        if header.sectionTableOffset != 0, header.sectionCount == 0 || header.programCount == pnXNum {
            guard header.sectionEntrySize >= FileHeader.sectionHeaderSize else {
                throw .sectionHeaderEntryTooSmall(header.sectionEntrySize)
            }
            let first = header.sectionTableOffset
            _ = try reader.require(.sectionHeaders, offset: first, length: UInt64(header.sectionEntrySize))
            if header.sectionCount == 0 {
                sectionCount = try reader.u64(at: ByteReader.field(first, 32), in: .sectionHeaders)
            }
            if header.programCount == pnXNum {
                programCount = UInt64(try reader.u32(at: ByteReader.field(first, 44), in: .sectionHeaders))
            }
        }

        let segments = try ELFFile.loadableSegments(reader, header: header, count: programCount)
        try ELFFile.checkOverlaps(segments)
        guard segments.contains(where: { indexed in
            let segment = indexed.segment
            return segment.virtualAddress <= header.entry && header.entry - segment.virtualAddress < segment.memorySize
        }) else {
            throw .entryOutsideSegments(header.entry)
        }

        if sectionCount > 0 {
            guard header.sectionEntrySize >= FileHeader.sectionHeaderSize else {
                throw .sectionHeaderEntryTooSmall(header.sectionEntrySize)
            }
            let entrySize = UInt64(header.sectionEntrySize)
            _ = try reader.require(.sectionHeaders, offset: header.sectionTableOffset,
                                   length: ELFFile.product(sectionCount, entrySize))
            symbols = try SymbolTable(reader: reader, tableOffset: header.sectionTableOffset,
                                      sectionCount: sectionCount, entrySize: entrySize)
        } else {
            symbols = .empty
        }
        self.entry = header.entry
        self.segments = segments.map(\.segment)
    }

    /// Reads and parses the ELF executable at `path`.
    ///
    /// - Throws: `ELFError.unreadable(path, reason)` if the file cannot be read (it does not
    ///   exist, is not readable, is a directory…), otherwise the errors of `init(bytes:)`.
    public init(contentsOf path: String) throws(ELFError) {
        try self.init(bytes: FileContents.load(path))
    }

    /// The address (`st_value`) of the symbol called `named` in the `.symtab` section, or `nil`
    /// if the file has no such symbol or was stripped. Global and weak symbols win over local
    /// ones; undefined, section and file symbols are ignored; symbols whose names are malformed
    /// are skipped.
    public func symbol(named: String) -> UInt64? {
        symbols.address(of: named)
    }

    // MARK: - Program headers

    /// A loadable segment together with its program header index, for error messages.
    private struct IndexedSegment {
        let index: Int
        let segment: ProgramSegment
    }

    /// Size of an `Elf64_Phdr`.
    private static let programHeaderSize: UInt16 = 56

    /// `count` × `size`, saturating at `UInt64.max` (a length no file can satisfy).
    private static func product(_ count: UInt64, _ size: UInt64) -> UInt64 {
        let (result, overflow) = count.multipliedReportingOverflow(by: size)
        return overflow ? UInt64.max : result
    }

    /// Validates the program header table and returns its non-empty `PT_LOAD` segments.
    private static func loadableSegments(_ reader: ByteReader, header: FileHeader, count: UInt64)
        throws(ELFError) -> [IndexedSegment]
    {
        guard count > 0 else { throw .noLoadableSegment }
        guard header.programEntrySize >= programHeaderSize else {
            throw .programHeaderEntryTooSmall(header.programEntrySize)
        }
        let entrySize = UInt64(header.programEntrySize)
        // After this check, count × entrySize bytes are in the file, so the loop is bounded by
        // the file's size and no entry's offset can overflow.
        _ = try reader.require(.programHeaders, offset: header.programTableOffset,
                               length: product(count, entrySize))
        let ptLoad: UInt32 = 1, ptInterp: UInt32 = 3
        var result: [IndexedSegment] = []
        var i: UInt64 = 0
        while i < count {
            defer { i += 1 }
            let index = Int(truncatingIfNeeded: i)
            let base = header.programTableOffset &+ i &* entrySize
            func field(_ offset: UInt64) throws(ELFError) -> UInt64 {
                try reader.u64(at: ByteReader.field(base, offset), in: .programHeaders)
            }
            let type = try reader.u32(at: base, in: .programHeaders)
            if type == ptInterp {
                throw .dynamicallyLinked(interpreter: interpreterPath(reader, offset: try field(8), size: try field(32)))
            }
            guard type == ptLoad else { continue }
            let flags = try reader.u32(at: ByteReader.field(base, 4), in: .programHeaders)
            let offset = try field(8)
            let virtualAddress = try field(16)
            let physicalAddress = try field(24)
            let fileSize = try field(32)
            let memorySize = try field(40)

            guard memorySize >= fileSize else {
                throw .memorySizeSmallerThanFileSize(index: index, fileSize: fileSize, memorySize: memorySize)
            }
            guard memorySize > 0 else { continue }
            for (space, address) in [(AddressSpace.virtual, virtualAddress), (.physical, physicalAddress)]
                where address.addingReportingOverflow(memorySize - 1).overflow
            {
                throw .segmentAddressOverflow(index: index, space: space, address: address, memorySize: memorySize)
            }
            var data: [UInt8] = []
            if fileSize > 0 {
                let (_, overflow) = offset.addingReportingOverflow(fileSize)
                guard !overflow, offset < UInt64(reader.count) else {
                    throw .segmentOutsideFile(index: index, offset: offset, fileSize: fileSize,
                                              fileLength: reader.count)
                }
                data = Array(reader.bytes[try reader.require(.segmentData(index: index), offset: offset,
                                                             length: fileSize)])
            }
            result.append(IndexedSegment(index: index, segment: ProgramSegment(
                physicalAddress: physicalAddress, virtualAddress: virtualAddress, fileSize: fileSize,
                memorySize: memorySize, flags: ProgramSegment.Flags(rawValue: flags), data: data)))
        }
        guard !result.isEmpty else { throw .noLoadableSegment }
        return result
    }

    /// The `PT_INTERP` path for an error message: at most 256 bytes, up to the first NUL;
    /// empty if the range is outside the file.
    private static func interpreterPath(_ reader: ByteReader, offset: UInt64, size: UInt64) -> String {
        guard let range = reader.range(offset: offset, length: min(size, 256)) else { return "" }
        let text = reader.bytes[range].prefix { $0 != 0 }
        return String(decoding: text, as: UTF8.self)
    }

    /// Throws if two segments share an address, in virtual or in physical address space.
    private static func checkOverlaps(_ segments: [IndexedSegment]) throws(ELFError) {
        for space in [AddressSpace.virtual, .physical] {
            // Inclusive ranges: the end cannot overflow (checked when the segment was read).
            let ranges = segments.map { indexed -> (index: Int, range: ClosedRange<UInt64>) in
                let s = indexed.segment
                let start = space == .virtual ? s.virtualAddress : s.physicalAddress
                return (indexed.index, start ... start + (s.memorySize - 1))
            }.sorted { $0.range.lowerBound < $1.range.lowerBound }
            // Sorted by start, any overlap shows up between neighbours.
            for (a, b) in zip(ranges, ranges.dropFirst()) where b.range.lowerBound <= a.range.upperBound {
                let (first, second) = a.index < b.index ? (a, b) : (b, a)
                throw .overlappingSegments(first: first.index, second: second.index, space: space,
                                           firstRange: first.range, secondRange: second.range)
            }
        }
    }
}

/// The fields of the 64-byte ELF file header that the parser uses, after identification checks.
private struct FileHeader {
    /// Size of an `Elf64_Shdr`.
    static let sectionHeaderSize: UInt16 = 64

    let entry: UInt64
    let programTableOffset: UInt64
    let sectionTableOffset: UInt64
    let programEntrySize: UInt16
    let programCount: UInt16
    let sectionEntrySize: UInt16
    let sectionCount: UInt16

    /// Checks `e_ident`, `e_machine`, `e_type` and `e_version`, in the order that gives the most
    /// useful message for the wrong kind of file, and reads the table locations.
    init(_ reader: ByteReader) throws(ELFError) {
        let bytes = reader.bytes
        let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
        // A file that is a prefix of the magic (including an empty file) is a truncated ELF.
        guard bytes.prefix(4).elementsEqual(magic.prefix(bytes.count)) else { throw .notELF }
        guard bytes.count >= 16 else { throw .truncated(.fileHeader, offset: 0, length: 64, fileSize: bytes.count) }
        switch bytes[4] {
        case 2: break
        case 1: throw .elf32
        case let other: throw .invalidClass(other)
        }
        switch bytes[5] {
        case 1: break
        case 2: throw .bigEndian
        case let other: throw .invalidDataEncoding(other)
        }
        guard bytes[6] == 1 else { throw .unsupportedVersion(UInt32(bytes[6])) }
        _ = try reader.require(.fileHeader, offset: 0, length: 64)

        let machine = try reader.u16(at: 18, in: .fileHeader)
        guard machine == 243 else { throw .wrongMachine(machine) }
        switch try reader.u16(at: 16, in: .fileHeader) {
        case 2: break
        case 3: throw .positionIndependent
        case let other: throw .notExecutable(type: other)
        }
        let version = try reader.u32(at: 20, in: .fileHeader)
        guard version == 1 else { throw .unsupportedVersion(version) }

        entry = try reader.u64(at: 24, in: .fileHeader)
        programTableOffset = try reader.u64(at: 32, in: .fileHeader)
        sectionTableOffset = try reader.u64(at: 40, in: .fileHeader)
        programEntrySize = try reader.u16(at: 54, in: .fileHeader)
        programCount = try reader.u16(at: 56, in: .fileHeader)
        sectionEntrySize = try reader.u16(at: 58, in: .fileHeader)
        sectionCount = try reader.u16(at: 60, in: .fileHeader)
    }
}
