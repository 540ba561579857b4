/// The `.symtab` symbols of an ELF file, looked up by name.
///
/// The table's location is validated when the file is parsed (so a truncated table is reported
/// as an error then); individual symbols are decoded only during a lookup. A symbol whose name
/// index points outside the string table, or whose name is not NUL-terminated inside it, is
/// skipped rather than treated as an error. A lookup costs one pass over the table and compares
/// at most `name.utf8.count + 1` bytes per symbol, so no input can make it quadratic.
struct SymbolTable: Sendable {
    /// Size of an `Elf64_Sym`.
    static let minimumEntrySize: UInt64 = 24

    private let bytes: [UInt8]
    /// The symbol table's bytes within `bytes` (a whole number of entries).
    private let symbols: Range<Int>
    private let entrySize: Int
    /// The string table's bytes within `bytes`.
    private let strings: Range<Int>

    /// A table with no symbols (the file has no `.symtab`, e.g. it was stripped).
    static let empty = SymbolTable(bytes: [], symbols: 0 ..< 0, entrySize: 24, strings: 0 ..< 0)

    private init(bytes: [UInt8], symbols: Range<Int>, entrySize: Int, strings: Range<Int>) {
        self.bytes = bytes
        self.symbols = symbols
        self.entrySize = entrySize
        self.strings = strings
    }

    /// Finds the first `SHT_SYMTAB` section among `sectionCount` section headers of
    /// `entrySize` bytes at `tableOffset` (a range already checked to lie in the file) and
    /// validates it and its linked string table.
    init(reader: ByteReader, tableOffset: UInt64, sectionCount: UInt64, entrySize headerSize: UInt64)
        throws(ELFError)
    {
        let shtSymtab: UInt32 = 2
        var found: UInt64?
        var index: UInt64 = 0
        while index < sectionCount {
            let header = ByteReader.field(tableOffset, index &* headerSize)
            if try reader.u32(at: ByteReader.field(header, 4), in: .sectionHeaders) == shtSymtab {
                found = header
                break
            }
            index += 1
        }
        guard let header = found else {
            self = .empty
            return
        }
        let offset = try reader.u64(at: ByteReader.field(header, 24), in: .sectionHeaders)
        let size = try reader.u64(at: ByteReader.field(header, 32), in: .sectionHeaders)
        let link = try reader.u32(at: ByteReader.field(header, 40), in: .sectionHeaders)
        let symbolSize = try reader.u64(at: ByteReader.field(header, 56), in: .sectionHeaders)
        if size == 0 {
            self = .empty
            return
        }
        guard symbolSize >= SymbolTable.minimumEntrySize else {
            throw .symbolTableEntryTooSmall(symbolSize)
        }
        guard UInt64(link) < sectionCount else {
            throw .stringTableIndexOutOfRange(index: link, sectionCount: sectionCount)
        }
        let stringHeader = ByteReader.field(tableOffset, UInt64(link) &* headerSize)
        let stringOffset = try reader.u64(at: ByteReader.field(stringHeader, 24), in: .sectionHeaders)
        let stringSize = try reader.u64(at: ByteReader.field(stringHeader, 32), in: .sectionHeaders)

        let symbolRange = try reader.require(.symbolTable, offset: offset, length: size)
        let stringRange = try reader.require(.stringTable, offset: stringOffset, length: stringSize)
        // An entry larger than the whole table means there are no symbols. Otherwise
        // symbolSize <= size <= file length, so it fits in Int; drop any partial last entry.
        guard symbolSize <= UInt64(symbolRange.count) else {
            self = .empty
            return
        }
        let entry = Int(symbolSize)
        let whole = symbolRange.count / entry * entry
        self.init(bytes: reader.bytes,
                  symbols: symbolRange.lowerBound ..< symbolRange.lowerBound + whole,
                  entrySize: entry, strings: stringRange)
    }

    /// The value (`st_value`) of the defined symbol called `name`, preferring a global or weak
    /// symbol to a local one; `nil` if there is none.
    func address(of name: String) -> UInt64? {
        let wanted = Array(name.utf8)
        guard !wanted.isEmpty, !wanted.contains(0) else { return nil }
        var local: UInt64?
        var base = symbols.lowerBound
        while symbols.upperBound - base >= entrySize {
            defer { base += entrySize }
            let info = bytes[base + 4]
            let type = info & 0xf
            let binding = info >> 4
            let sectionIndex = UInt16(bytes[base + 6]) | UInt16(bytes[base + 7]) << 8
            // Undefined symbols, section symbols and file symbols are not addresses in the program.
            guard sectionIndex != 0, type != 3, type != 4 else { continue }
            guard nameMatches(wanted, nameIndex: littleEndian(at: base, width: 4)) else { continue }
            let value = littleEndian(at: base + 8, width: 8)
            if binding != 0 { return value }
            if local == nil { local = value }
        }
        return local
    }

    /// Whether the NUL-terminated string at `nameIndex` in the string table equals `wanted`.
    private func nameMatches(_ wanted: [UInt8], nameIndex: UInt64) -> Bool {
        // The terminating NUL must also lie inside the string table.
        guard nameIndex < UInt64(strings.count),
              UInt64(strings.count) - nameIndex > UInt64(wanted.count) else { return false }
        var position = strings.lowerBound + Int(nameIndex)
        for byte in wanted {
            if bytes[position] != byte { return false }
            position += 1
        }
        return bytes[position] == 0
    }

    /// Reads `width` little-endian bytes at `offset` (inside `symbols` by construction).
    private func littleEndian(at offset: Int, width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0 ..< width {
            value |= UInt64(bytes[offset + i]) << UInt64(8 * i)
        }
        return value
    }
}
