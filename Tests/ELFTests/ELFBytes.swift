/// Reads and patches the fields of an ELF64 image in tests, independently of the parser.
struct ELFBytes {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(_ offset: Int, _ width: Int) -> UInt64 {
        (0 ..< width).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
    }

    mutating func write(_ offset: Int, _ width: Int, _ value: UInt64) {
        for i in 0 ..< width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
    }

    // ELF header fields.
    var programHeaderOffset: Int { Int(read(32, 8)) }
    var sectionHeaderOffset: Int { Int(read(40, 8)) }
    var programHeaderCount: Int { Int(read(56, 2)) }
    var sectionHeaderCount: Int { Int(read(60, 2)) }

    /// File offset of program header `index`.
    func programHeader(_ index: Int) -> Int { programHeaderOffset + 56 * index }
    /// File offset of section header `index`.
    func sectionHeader(_ index: Int) -> Int { sectionHeaderOffset + 64 * index }

    /// Indices of the PT_LOAD program headers.
    var loadIndices: [Int] { (0 ..< programHeaderCount).filter { read(programHeader($0), 4) == 1 } }

    /// Index of the first SHT_SYMTAB section header.
    var symbolTableSection: Int? { (0 ..< sectionHeaderCount).first { read(sectionHeader($0) + 4, 4) == 2 } }

    // Field offsets inside a program header.
    static let pType = 0, pFlags = 4, pOffset = 8, pVaddr = 16, pPaddr = 24, pFilesz = 32, pMemsz = 40
    // Field offsets inside a section header.
    static let shType = 4, shOffset = 24, shSize = 32, shLink = 40, shInfo = 44, shEntsize = 56
}

import ELF

extension [ProgramSegment] {
    /// Addresses, sizes and flags, without the data (which for the first segment includes the
    /// ELF header, so it changes whenever a test patches the header).
    var layout: [String] {
        map { "\($0.virtualAddress)/\($0.physicalAddress)/\($0.fileSize)/\($0.memorySize)/\($0.flags)" }
    }
}
