@testable import ELF
import Foundation
import Testing

/// Every error case, produced by corrupting a real RISC-V executable (or using a host file).
@Suite struct ErrorTests {
    /// The real program's bytes, for patching.
    private func program() throws -> ELFBytes {
        ELFBytes(try Toolchain.fixtures().bytes)
    }

    /// Parses `bytes`, requires that it throws `expected`, and that the message mentions every
    /// string in `mentions`.
    @discardableResult
    private func expectError(_ bytes: [UInt8], _ expected: ELFError, mentions: [String] = [],
                             sourceLocation: SourceLocation = #_sourceLocation) -> ELFError? {
        let error = #expect(throws: ELFError.self, sourceLocation: sourceLocation) { try ELFFile(bytes: bytes) }
        #expect(error == expected, sourceLocation: sourceLocation)
        for text in mentions {
            #expect(error?.description.contains(text) == true,
                    "message should mention '\(text)': \(error?.description ?? "no error")",
                    sourceLocation: sourceLocation)
        }
        return error
    }

    // MARK: Identification

    @Test func notAnELFFile() throws {
        let advice = "not an ELF file; pass a RISC-V ELF executable built with riscv64-linux-gnu-gcc"
        let message = ELFError.notELF.description
        #expect(message.hasPrefix("not an ELF file"))
        #expect(message.contains("pass a RISC-V ELF executable built with riscv64-linux-gnu-gcc"), "\(advice)")
        expectError(Array("#!/bin/sh\necho hello\n".utf8), .notELF, mentions: ["not an ELF file"])
        var elf = try program()
        elf.bytes[1] = UInt8(ascii: "X")
        expectError(elf.bytes, .notELF, mentions: ["riscv64-linux-gnu-gcc"])
        expectError([0x7f, 0x45, 0x00], .notELF)
        expectError([0x00], .notELF)
    }

    @Test func elfClass() throws {
        var elf = try program()
        elf.bytes[4] = 1
        expectError(elf.bytes, .elf32, mentions: ["32-bit ELF", "Lockstep runs RV64 programs",
                                                  "-march=rv64gc -mabi=lp64d"])
        for value: UInt8 in [0, 3, 0xff] {
            elf.bytes[4] = value
            expectError(elf.bytes, .invalidClass(value), mentions: ["class"])
        }
    }

    @Test func byteOrder() throws {
        var elf = try program()
        elf.bytes[5] = 2
        expectError(elf.bytes, .bigEndian, mentions: ["big-endian", "little-endian"])
        elf.bytes[5] = 0
        expectError(elf.bytes, .invalidDataEncoding(0), mentions: ["byte-order"])
    }

    @Test func version() throws {
        var elf = try program()
        elf.bytes[6] = 0
        expectError(elf.bytes, .unsupportedVersion(0), mentions: ["version"])
        elf = try program()
        elf.write(20, 4, 2)
        expectError(elf.bytes, .unsupportedVersion(2), mentions: ["version 2"])
    }

    @Test func wrongMachine() throws {
        var elf = try program()
        for (machine, name) in [(62, "x86-64"), (183, "AArch64"), (3, "x86"), (40, "ARM")] {
            elf.write(18, 2, UInt64(machine))
            expectError(elf.bytes, .wrongMachine(UInt16(machine)), mentions: [name, "\(machine)", "RISC-V"])
        }
        elf.write(18, 2, 0x1234)
        expectError(elf.bytes, .wrongMachine(0x1234), mentions: ["\(0x1234)"])
    }

    @Test func notAnExecutable() throws {
        var elf = try program()
        elf.write(16, 2, 3)
        expectError(elf.bytes, .positionIndependent, mentions: ["ET_DYN", "-static -no-pie"])
        elf.write(16, 2, 1)
        expectError(elf.bytes, .notExecutable(type: 1), mentions: ["relocatable", "link"])
        elf.write(16, 2, 4)
        expectError(elf.bytes, .notExecutable(type: 4), mentions: ["core"])
        elf.write(16, 2, 0xfe00)
        expectError(elf.bytes, .notExecutable(type: 0xfe00), mentions: ["\(0xfe00)"])
    }

    // MARK: Truncation

    @Test func truncatedHeader() throws {
        let bytes = try program().bytes
        expectError([], .truncated(.fileHeader, offset: 0, length: 64, fileSize: 0), mentions: ["0 bytes"])
        expectError(Array(bytes.prefix(3)), .truncated(.fileHeader, offset: 0, length: 64, fileSize: 3))
        expectError(Array(bytes.prefix(40)), .truncated(.fileHeader, offset: 0, length: 64, fileSize: 40),
                    mentions: ["truncated", "ELF file header", "40 bytes"])
        expectError(Array(bytes.prefix(63)), .truncated(.fileHeader, offset: 0, length: 64, fileSize: 63))
    }

    @Test func truncatedProgramHeaders() throws {
        let elf = try program()
        let start = elf.programHeaderOffset, length = 56 * elf.programHeaderCount
        for cut in [start, start + 1, start + 56, start + length - 1] {
            expectError(Array(elf.bytes.prefix(cut)),
                        .truncated(.programHeaders, offset: UInt64(start), length: UInt64(length), fileSize: cut),
                        mentions: ["program header table", "offset \(start)", "\(cut) bytes"])
        }
    }

    @Test func truncatedSegmentData() throws {
        let elf = try program()
        // The first LOAD segment with file bytes, cut in its middle.
        let index = try #require(elf.loadIndices.first { elf.read(elf.programHeader($0) + ELFBytes.pFilesz, 8) > 16 })
        let header = elf.programHeader(index)
        let offset = elf.read(header + ELFBytes.pOffset, 8), size = elf.read(header + ELFBytes.pFilesz, 8)
        let cut = Int(offset + size / 2)
        expectError(Array(elf.bytes.prefix(cut)),
                    .truncated(.segmentData(index: index), offset: offset, length: size, fileSize: cut),
                    mentions: ["segment \(index)", "offset \(offset)", "\(cut) bytes"])
    }

    @Test func truncatedSectionHeaders() throws {
        let elf = try program()
        let start = elf.sectionHeaderOffset, length = 64 * elf.sectionHeaderCount
        for cut in [start, start + 64, elf.bytes.count - 1] {
            expectError(Array(elf.bytes.prefix(cut)),
                        .truncated(.sectionHeaders, offset: UInt64(start), length: UInt64(length), fileSize: cut),
                        mentions: ["section header table", "offset \(start)", "\(cut) bytes"])
        }
    }

    @Test func truncatedSymbolAndStringTables() throws {
        let original = try program()
        let symtab = original.sectionHeader(try #require(original.symbolTableSection))
        let strtab = original.sectionHeader(Int(original.read(symtab + ELFBytes.shLink, 4)))
        let fileSize = original.bytes.count

        for (header, region) in [(symtab, ELFRegion.symbolTable), (strtab, .stringTable)] {
            let size = original.read(header + ELFBytes.shSize, 8)
            // Moved to the end of the file, so that it runs past it.
            var elf = original
            let offset = UInt64(fileSize) - size / 2
            elf.write(header + ELFBytes.shOffset, 8, offset)
            expectError(elf.bytes, .truncated(region, offset: offset, length: size, fileSize: fileSize),
                        mentions: [region.description, "offset \(offset)", "\(fileSize) bytes"])
            // An offset near 2^64: offset + size overflows, which must read as truncation too.
            elf.write(header + ELFBytes.shOffset, 8, UInt64.max - 3)
            expectError(elf.bytes, .truncated(region, offset: UInt64.max - 3, length: size, fileSize: fileSize))
            // An absurd size.
            elf = original
            elf.write(header + ELFBytes.shSize, 8, UInt64.max)
            let actualOffset = original.read(header + ELFBytes.shOffset, 8)
            expectError(elf.bytes, .truncated(region, offset: actualOffset, length: UInt64.max, fileSize: fileSize))
        }
    }

    // MARK: Program headers

    @Test func absurdProgramHeaderCountsAndSizes() throws {
        var elf = try program()
        let fileSize = elf.bytes.count, start = UInt64(elf.programHeaderOffset)
        elf.write(56, 2, 0xfffe)
        expectError(elf.bytes, .truncated(.programHeaders, offset: start, length: 0xfffe * 56, fileSize: fileSize))
        elf = try program()
        elf.write(54, 2, 0xffff)
        let count = UInt64(elf.programHeaderCount)
        expectError(elf.bytes, .truncated(.programHeaders, offset: start, length: 0xffff * count, fileSize: fileSize))
        elf = try program()
        elf.write(32, 8, UInt64.max - 8)
        expectError(elf.bytes, .truncated(.programHeaders, offset: UInt64.max - 8, length: 56 * count,
                                          fileSize: fileSize))
        for size: UInt64 in [0, 1, 32, 55] {
            elf = try program()
            elf.write(54, 2, size)
            expectError(elf.bytes, .programHeaderEntryTooSmall(UInt16(size)), mentions: ["\(size) bytes", "56"])
        }
    }

    @Test func largerProgramHeaderEntriesAreAccepted() throws {
        // e_phentsize larger than 56 is legal: entries are strided by it. Rebuild the table that way.
        let original = try program()
        let count = original.programHeaderCount
        var elf = original
        let newOffset = elf.bytes.count
        for i in 0 ..< count {
            let header = original.programHeader(i)
            elf.bytes += original.bytes[header ..< header + 56] + [UInt8](repeating: 0xaa, count: 8)
        }
        elf.write(32, 8, UInt64(newOffset))
        elf.write(54, 2, 64)
        let parsed = try ELFFile(bytes: elf.bytes)
        #expect(parsed.segments.layout == (try ELFFile(bytes: original.bytes)).segments.layout)
    }

    @Test func extendedProgramHeaderCount() throws {
        // PN_XNUM: e_phnum = 0xffff means "the count is in section header 0's sh_info".
        var elf = try program()
        let count = elf.programHeaderCount
        elf.write(56, 2, 0xffff)
        elf.write(elf.sectionHeader(0) + ELFBytes.shInfo, 4, UInt64(count))
        let parsed = try ELFFile(bytes: elf.bytes)
        #expect(parsed.segments.layout == (try ELFFile(bytes: try program().bytes)).segments.layout)
        // And the section count from sh_size when e_shnum is 0.
        elf = try program()
        let sections = elf.sectionHeaderCount
        elf.write(60, 2, 0)
        elf.write(elf.sectionHeader(0) + ELFBytes.shSize, 8, UInt64(sections))
        #expect(try ELFFile(bytes: elf.bytes).symbol(named: "_start") != nil)
        // A huge extended count is truncation, not a hang or a trap.
        elf.write(elf.sectionHeader(0) + ELFBytes.shSize, 8, UInt64.max)
        expectError(elf.bytes, .truncated(.sectionHeaders, offset: UInt64(elf.sectionHeaderOffset),
                                          length: UInt64.max, fileSize: elf.bytes.count))
    }

    @Test func segmentOutsideFile() throws {
        let original = try program()
        let index = try #require(original.loadIndices.first {
            original.read(original.programHeader($0) + ELFBytes.pFilesz, 8) > 0
        })
        let header = original.programHeader(index)
        let size = original.read(header + ELFBytes.pFilesz, 8)
        for offset in [UInt64(original.bytes.count), 0x7fff_ffff_ffff_ffff, UInt64.max, UInt64.max - size + 1] {
            var elf = original
            elf.write(header + ELFBytes.pOffset, 8, offset)
            expectError(elf.bytes, .segmentOutsideFile(index: index, offset: offset, fileSize: size,
                                                       fileLength: original.bytes.count),
                        mentions: ["segment \(index)", "outside", "\(original.bytes.count) bytes"])
        }
        // An absurd p_filesz (with p_memsz to match) from a valid offset.
        var elf = original
        elf.write(header + ELFBytes.pFilesz, 8, UInt64.max)
        elf.write(header + ELFBytes.pMemsz, 8, UInt64.max)
        let error = #expect(throws: ELFError.self) { try ELFFile(bytes: elf.bytes) }
        #expect(error != nil)
    }

    @Test func memorySizeSmallerThanFileSize() throws {
        var elf = try program()
        let index = try #require(elf.loadIndices.first)
        let header = elf.programHeader(index)
        let size = elf.read(header + ELFBytes.pFilesz, 8)
        elf.write(header + ELFBytes.pMemsz, 8, size - 1)
        expectError(elf.bytes, .memorySizeSmallerThanFileSize(index: index, fileSize: size, memorySize: size - 1),
                    mentions: ["segment \(index)", "memory size", "file size"])
        elf.write(header + ELFBytes.pMemsz, 8, 0)
        expectError(elf.bytes, .memorySizeSmallerThanFileSize(index: index, fileSize: size, memorySize: 0))
    }

    @Test func overlappingSegments() throws {
        let original = try program()
        let loads = original.loadIndices
        try #require(loads.count >= 2)
        let first = original.programHeader(loads[0]), second = original.programHeader(loads[1])
        let start = original.read(first + ELFBytes.pVaddr, 8)
        let firstSize = original.read(first + ELFBytes.pMemsz, 8)
        let secondSize = original.read(second + ELFBytes.pMemsz, 8)

        var elf = original
        elf.write(second + ELFBytes.pVaddr, 8, start + 0x10)
        elf.write(second + ELFBytes.pPaddr, 8, start + 0x10)
        expectError(elf.bytes, .overlappingSegments(
            first: loads[0], second: loads[1], space: .virtual, firstRange: start ... start + firstSize - 1,
            secondRange: start + 0x10 ... start + 0x10 + secondSize - 1),
            mentions: ["segments \(loads[0])", "overlap", "virtual"])

        // Touching is fine; one byte of overlap is not.
        elf = original
        let physical = original.read(first + ELFBytes.pPaddr, 8)
        elf.write(second + ELFBytes.pPaddr, 8, physical + firstSize)
        #expect(throws: Never.self) { try ELFFile(bytes: elf.bytes) }
        elf.write(second + ELFBytes.pPaddr, 8, physical + firstSize - 1)
        let error = expectError(elf.bytes, .overlappingSegments(
            first: loads[0], second: loads[1], space: .physical, firstRange: physical ... physical + firstSize - 1,
            secondRange: physical + firstSize - 1 ... physical + firstSize + secondSize - 2))
        #expect(error?.description.contains("physical") == true)
    }

    @Test func segmentAddressOverflow() throws {
        var elf = try program()
        let index = try #require(elf.loadIndices.last)
        let header = elf.programHeader(index)
        let size = elf.read(header + ELFBytes.pMemsz, 8)
        elf.write(header + ELFBytes.pVaddr, 8, UInt64.max - 2)
        expectError(elf.bytes, .segmentAddressOverflow(index: index, space: .virtual, address: UInt64.max - 2,
                                                       memorySize: size),
                    mentions: ["segment \(index)", "address space"])
    }

    @Test func noLoadableSegment() throws {
        var elf = try program()
        for index in elf.loadIndices { elf.write(elf.programHeader(index) + ELFBytes.pType, 4, 0) }
        expectError(elf.bytes, .noLoadableSegment, mentions: ["no loadable segment", "PT_LOAD"])
        // PT_LOAD headers that load nothing.
        elf = try program()
        for index in elf.loadIndices {
            elf.write(elf.programHeader(index) + ELFBytes.pFilesz, 8, 0)
            elf.write(elf.programHeader(index) + ELFBytes.pMemsz, 8, 0)
        }
        expectError(elf.bytes, .noLoadableSegment)
        // No program headers at all.
        elf = try program()
        elf.write(56, 2, 0)
        expectError(elf.bytes, .noLoadableSegment)
    }

    @Test func entryOutsideSegments() throws {
        var elf = try program()
        elf.write(24, 8, 0)
        expectError(elf.bytes, .entryOutsideSegments(0), mentions: ["entry point 0x0", "_start"])
    }

    @Test func dynamicallyLinkedByPatchedHeader() throws {
        // Turn a non-LOAD program header into PT_INTERP pointing at a string in the file.
        var elf = try program()
        let index = try #require((0 ..< elf.programHeaderCount).first { !elf.loadIndices.contains($0) })
        let path = Array("/lib/ld-linux-riscv64-lp64d.so.1\0".utf8)
        let offset = elf.bytes.count
        elf.bytes += path
        elf.write(elf.programHeader(index) + ELFBytes.pType, 4, 3)
        elf.write(elf.programHeader(index) + ELFBytes.pOffset, 8, UInt64(offset))
        elf.write(elf.programHeader(index) + ELFBytes.pFilesz, 8, UInt64(path.count))
        expectError(elf.bytes, .dynamicallyLinked(interpreter: "/lib/ld-linux-riscv64-lp64d.so.1"),
                    mentions: ["dynamically linked", "-static"])
        // An interpreter path outside the file still gives the error, without the path.
        elf.write(elf.programHeader(index) + ELFBytes.pOffset, 8, UInt64.max)
        expectError(elf.bytes, .dynamicallyLinked(interpreter: ""))
    }

    // MARK: Section headers and symbols

    @Test func sectionHeaderProblems() throws {
        var elf = try program()
        elf.write(58, 2, 40)
        expectError(elf.bytes, .sectionHeaderEntryTooSmall(40), mentions: ["40 bytes", "64"])
        elf = try program()
        elf.write(60, 2, 0xff00)
        expectError(elf.bytes, .truncated(.sectionHeaders, offset: UInt64(elf.sectionHeaderOffset),
                                          length: 0xff00 * 64, fileSize: elf.bytes.count))
        // e_shoff = 0 means "no section headers": the program loads, without symbols.
        elf = try program()
        elf.write(40, 8, 0)
        let parsed = try ELFFile(bytes: elf.bytes)
        #expect(parsed.symbol(named: "_start") == nil)
        #expect(!parsed.segments.isEmpty)
    }

    @Test func symbolTableProblems() throws {
        let original = try program()
        let symtab = original.sectionHeader(try #require(original.symbolTableSection))
        var elf = original
        elf.write(symtab + ELFBytes.shEntsize, 8, 16)
        expectError(elf.bytes, .symbolTableEntryTooSmall(16), mentions: ["16 bytes", "24"])
        elf = original
        elf.write(symtab + ELFBytes.shLink, 4, 0xffff_ffff)
        expectError(elf.bytes, .stringTableIndexOutOfRange(index: 0xffff_ffff,
                                                           sectionCount: UInt64(original.sectionHeaderCount)),
                    mentions: ["section \(0xffff_ffff)", "\(original.sectionHeaderCount) sections"])
        // A larger entry size is legal; entries are strided by it (here: every other symbol).
        elf = original
        elf.write(symtab + ELFBytes.shEntsize, 8, 48)
        #expect(throws: Never.self) { try ELFFile(bytes: elf.bytes) }
        // An entry size larger than the whole table (found by the fuzzer: it trapped converting
        // to Int) means no symbols, not a crash.
        for entrySize in [original.read(symtab + ELFBytes.shSize, 8) + 1, 1 << 40, UInt64.max] {
            elf.write(symtab + ELFBytes.shEntsize, 8, entrySize)
            #expect(try ELFFile(bytes: elf.bytes).symbol(named: "_start") == nil)
        }
    }

    @Test func badSymbolNamesAreSkipped() throws {
        let original = try program()
        let symtab = original.sectionHeader(try #require(original.symbolTableSection))
        let strtab = original.sectionHeader(Int(original.read(symtab + ELFBytes.shLink, 4)))
        let symbolsAt = Int(original.read(symtab + ELFBytes.shOffset, 8))
        let count = Int(original.read(symtab + ELFBytes.shSize, 8)) / 24
        let stringsAt = Int(original.read(strtab + ELFBytes.shOffset, 8))
        let stringsSize = original.read(strtab + ELFBytes.shSize, 8)
        let reference = try ELFFile(bytes: original.bytes)

        func nameOf(_ symbol: Int) -> String {
            let start = stringsAt + Int(original.read(symbolsAt + 24 * symbol, 4))
            return String(decoding: original.bytes[start...].prefix { $0 != 0 }, as: UTF8.self)
        }
        let counter = try #require((0 ..< count).first { nameOf($0) == "counter" })
        for badIndex in [stringsSize, stringsSize + 1, 0xffff_ffff] {
            var elf = original
            elf.write(symbolsAt + 24 * counter, 4, badIndex)
            let parsed = try ELFFile(bytes: elf.bytes)
            #expect(parsed.symbol(named: "counter") == nil)
            #expect(parsed.symbol(named: "_start") == reference.symbol(named: "_start"))
        }
        // A name whose NUL terminator would lie past the string table is skipped too.
        var elf = original
        let last = try #require((0 ..< count).max { original.read(symbolsAt + 24 * $0, 4) < original.read(symbolsAt + 24 * $1, 4) })
        let lastName = nameOf(last)
        elf.write(strtab + ELFBytes.shSize, 8, stringsSize - 1)
        let parsed = try ELFFile(bytes: elf.bytes)
        #expect(parsed.symbol(named: lastName) == nil, "\(lastName)")
        #expect(parsed.symbol(named: "_start") == reference.symbol(named: "_start") || lastName == "_start")
        // Looking up names with NUL or odd bytes is harmless.
        #expect(reference.symbol(named: "counter\0") == nil)
        #expect(reference.symbol(named: "\u{FFFD}") == nil)
    }

    // MARK: Reading files

    @Test func unreadableFiles() throws {
        let missing = "/nonexistent/lockstep/program.elf"
        let error = #expect(throws: ELFError.self) { try ELFFile(contentsOf: missing) }
        guard case .unreadable(let path, let reason) = error else {
            Issue.record("expected .unreadable, got \(String(describing: error))")
            return
        }
        #expect(path == missing)
        #expect(reason.contains("no such file"))
        #expect(error?.description.contains(missing) == true)

        let directory = try Toolchain.fixtures().directory.path
        let dirError = #expect(throws: ELFError.self) { try ELFFile(contentsOf: directory) }
        #expect(dirError.map { if case .unreadable(directory, let reason) = $0 { reason.contains("directory") } else { false } } == true,
                "\(String(describing: dirError))")

        #expect(throws: ELFError.self) { try ELFFile(contentsOf: "") }
        #expect(throws: ELFError.self) { try ELFFile(contentsOf: "/dev/null/x") }

        // Permission denied: root can read anything, so check the message itself there.
        if geteuid() == 0 {
            #expect(FileContents.explain(EACCES).contains("permission denied"))
        } else {
            let file = try Toolchain.fixtures().directory.appendingPathComponent("unreadable.elf")
            try Data(try Toolchain.fixtures().bytes).write(to: file)
            chmod(file.path, 0)
            let permissionError = #expect(throws: ELFError.self) { try ELFFile(contentsOf: file.path) }
            #expect(permissionError?.description.contains("permission denied") == true)
        }
        // Not a regular file.
        let deviceError = #expect(throws: ELFError.self) { try ELFFile(contentsOf: "/dev/zero") }
        #expect(deviceError?.description.contains("not a regular file") == true)
    }

    @Test func everyMessageSaysWhatToDo() {
        // Every case explains itself and ends with advice after a semicolon.
        let samples: [ELFError] = [
            .unreadable(path: "p", reason: "no such file; check the path"), .notELF, .elf32, .invalidClass(9),
            .bigEndian, .invalidDataEncoding(9), .unsupportedVersion(9), .wrongMachine(62), .wrongMachine(9999),
            .positionIndependent, .notExecutable(type: 1), .dynamicallyLinked(interpreter: ""),
            .truncated(.stringTable, offset: 1, length: 2, fileSize: 3), .programHeaderEntryTooSmall(1),
            .sectionHeaderEntryTooSmall(1), .segmentOutsideFile(index: 1, offset: 2, fileSize: 3, fileLength: 4),
            .memorySizeSmallerThanFileSize(index: 1, fileSize: 2, memorySize: 1),
            .segmentAddressOverflow(index: 1, space: .physical, address: 2, memorySize: 3),
            .overlappingSegments(first: 1, second: 2, space: .virtual, firstRange: 0 ... 1, secondRange: 1 ... 2),
            .noLoadableSegment, .entryOutsideSegments(0), .symbolTableEntryTooSmall(1),
            .stringTableIndexOutOfRange(index: 9, sectionCount: 2),
        ]
        for error in samples {
            #expect(error.description.contains("; "), "\(error)")
            #expect(error.description.count > 40, "\(error)")
        }
        #expect(ELFError.wrongMachine(9999).description.contains("9999"))
    }
}
