/// A part of an ELF file that the parser reads, named in `ELFError.truncated` so the message can
/// say what was cut off.
public enum ELFRegion: Sendable, Equatable, CustomStringConvertible {
    /// The 64-byte ELF file header at offset 0.
    case fileHeader
    /// The program header table (`e_phoff`, `e_phnum` × `e_phentsize`).
    case programHeaders
    /// The section header table (`e_shoff`, `e_shnum` × `e_shentsize`).
    case sectionHeaders
    /// The file bytes of the loadable segment described by program header `index`.
    case segmentData(index: Int)
    /// The `.symtab` section's contents.
    case symbolTable
    /// The string table holding the symbol names (the section `.symtab` links to).
    case stringTable

    /// A short human-readable name, e.g. "program header table".
    public var description: String {
        switch self {
        case .fileHeader: "ELF file header"
        case .programHeaders: "program header table"
        case .sectionHeaders: "section header table"
        case .segmentData(let index): "data of segment \(index)"
        case .symbolTable: "symbol table (.symtab)"
        case .stringTable: "symbol string table (.strtab)"
        }
    }
}

/// Which of a segment's two addresses a check was about.
public enum AddressSpace: Sendable, Equatable, CustomStringConvertible {
    /// `p_vaddr`, the address the program sees.
    case virtual
    /// `p_paddr`, the address the bytes are loaded at (the load memory address).
    case physical

    /// "virtual" or "physical".
    public var description: String {
        switch self {
        case .virtual: "virtual"
        case .physical: "physical"
        }
    }
}

/// Why a file could not be used as a Lockstep program.
///
/// Every case's `description` says what is wrong and what to do about it, and is meant to be
/// shown to the user as is (prefixed with the file's path where the caller knows it).
public enum ELFError: Error, CustomStringConvertible, Equatable {
    /// The file at `path` could not be read (missing, no permission, a directory, an I/O error…);
    /// `reason` is a human-readable explanation.
    case unreadable(path: String, reason: String)
    /// The file does not start with the ELF magic bytes `7f 45 4c 46`.
    case notELF
    /// The file is an ELF32 (`EI_CLASS` = `ELFCLASS32`).
    case elf32
    /// `EI_CLASS` is neither `ELFCLASS32` nor `ELFCLASS64`; the value found is attached.
    case invalidClass(UInt8)
    /// The file is big-endian (`EI_DATA` = `ELFDATA2MSB`).
    case bigEndian
    /// `EI_DATA` is neither little- nor big-endian; the value found is attached.
    case invalidDataEncoding(UInt8)
    /// `EI_VERSION` or `e_version` is not 1 (`EV_CURRENT`); the value found is attached.
    case unsupportedVersion(UInt32)
    /// `e_machine` is not `EM_RISCV` (243); the value found is attached (e.g. 62 for x86-64).
    case wrongMachine(UInt16)
    /// `e_type` is `ET_DYN`: a position-independent executable or shared library.
    case positionIndependent
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN` (e.g. 1 for a relocatable object file).
    case notExecutable(type: UInt16)
    /// The program has a `PT_INTERP` segment, i.e. it needs a dynamic loader Lockstep does not have.
    case dynamicallyLinked(interpreter: String)
    /// A structure extends past the end of the file (or its offset + size overflows).
    case truncated(ELFRegion, offset: UInt64, length: UInt64, fileSize: Int)
    /// `e_phentsize` is smaller than an `Elf64_Phdr` (56 bytes).
    case programHeaderEntryTooSmall(UInt16)
    /// `e_shentsize` is smaller than an `Elf64_Shdr` (64 bytes).
    case sectionHeaderEntryTooSmall(UInt16)
    /// The loadable segment described by program header `index` starts at or beyond the end
    /// of the file, or its `p_offset + p_filesz` overflows.
    case segmentOutsideFile(index: Int, offset: UInt64, fileSize: UInt64, fileLength: Int)
    /// A loadable segment has `p_memsz < p_filesz`.
    case memorySizeSmallerThanFileSize(index: Int, fileSize: UInt64, memorySize: UInt64)
    /// A loadable segment's address + `p_memsz` goes past the top of the 64-bit address space.
    case segmentAddressOverflow(index: Int, space: AddressSpace, address: UInt64, memorySize: UInt64)
    /// Two loadable segments cover some of the same addresses (inclusive ranges attached).
    case overlappingSegments(first: Int, second: Int, space: AddressSpace,
                             firstRange: ClosedRange<UInt64>, secondRange: ClosedRange<UInt64>)
    /// There is no `PT_LOAD` program header with `p_memsz > 0`.
    case noLoadableSegment
    /// `e_entry` is not inside any loadable segment (by virtual address).
    case entryOutsideSegments(UInt64)
    /// `.symtab`'s `sh_entsize` is smaller than an `Elf64_Sym` (24 bytes).
    case symbolTableEntryTooSmall(UInt64)
    /// `.symtab`'s `sh_link` does not name an existing section.
    case stringTableIndexOutOfRange(index: UInt32, sectionCount: UInt64)

    /// The name of an ELF `e_machine` value, e.g. "x86-64" for 62, or `nil` if it is not one of
    /// the common architectures.
    public static func machineName(_ machine: UInt16) -> String? {
        switch machine {
        case 0: "no machine (EM_NONE)"
        case 2: "SPARC"
        case 3: "x86 (i386)"
        case 8: "MIPS"
        case 20: "PowerPC"
        case 21: "PowerPC64"
        case 22: "IBM S/390"
        case 40: "ARM (32-bit)"
        case 43: "SPARC v9"
        case 50: "IA-64"
        case 62: "x86-64"
        case 183: "AArch64"
        case 243: "RISC-V"
        case 247: "BPF"
        case 258: "LoongArch"
        default: nil
        }
    }

    /// What is wrong with the file and what to do about it.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read '\(path)': \(reason)"
        case .notELF:
            return "not an ELF file (it does not start with the bytes 7f 45 4c 46); "
                + "pass a RISC-V ELF executable built with riscv64-linux-gnu-gcc"
        case .elf32:
            return "the file is a 32-bit ELF (ELFCLASS32); Lockstep runs RV64 programs, "
                + "build with -march=rv64gc -mabi=lp64d"
        case .invalidClass(let value):
            return "the ELF header has an invalid class byte (EI_CLASS = \(value), expected 2 for 64-bit); "
                + "the file is corrupt, rebuild it with riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d"
        case .bigEndian:
            return "the file is a big-endian ELF (ELFDATA2MSB); RISC-V programs are little-endian, "
                + "build with riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d"
        case .invalidDataEncoding(let value):
            return "the ELF header has an invalid byte-order byte (EI_DATA = \(value), expected 1 for little-endian); "
                + "the file is corrupt, rebuild it with riscv64-linux-gnu-gcc"
        case .unsupportedVersion(let value):
            return "unsupported ELF version \(value) (expected 1, EV_CURRENT); "
                + "the file is corrupt or from an unknown tool, rebuild it with riscv64-linux-gnu-gcc"
        case .wrongMachine(let machine):
            let name = ELFError.machineName(machine).map { "\($0) (e_machine = \(machine))" }
                ?? "machine type \(machine)"
            return "the file is built for \(name), not RISC-V (e_machine = 243); "
                + "build it with riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d"
        case .positionIndependent:
            return "the file is a position-independent executable or shared library (ET_DYN); "
                + "Lockstep loads fixed-address programs, link with -static -no-pie (and compile with -fno-pie)"
        case .notExecutable(let type):
            let kind: String = switch type {
            case 0: "has no file type (ET_NONE)"
            case 1: "is a relocatable object file (ET_REL, a .o)"
            case 4: "is a core dump (ET_CORE)"
            default: "has ELF type \(type), not an executable (ET_EXEC = 2)"
            }
            return "the file \(kind); link it into an executable, "
                + "e.g. riscv64-linux-gnu-gcc -static -no-pie -o program program.o"
        case .dynamicallyLinked(let interpreter):
            let via = interpreter.isEmpty ? "" : " (it asks for the loader \(interpreter))"
            return "the program is dynamically linked\(via); Lockstep has no dynamic loader, "
                + "link with -static -no-pie"
        case .truncated(let region, let offset, let length, let fileSize):
            return "the file is truncated: the \(region) at offset \(offset) (0x\(hex(offset))) "
                + "needs \(length) bytes, but the file has only \(fileSize) bytes; "
                + "the file is incomplete or corrupt, rebuild or copy it again"
        case .programHeaderEntryTooSmall(let size):
            return "program header entries are \(size) bytes (e_phentsize), smaller than the 56 bytes "
                + "of an ELF64 program header; the file is corrupt, rebuild it"
        case .sectionHeaderEntryTooSmall(let size):
            return "section header entries are \(size) bytes (e_shentsize), smaller than the 64 bytes "
                + "of an ELF64 section header; the file is corrupt, rebuild it (or strip it with "
                + "riscv64-linux-gnu-strip --strip-section-headers)"
        case .segmentOutsideFile(let index, let offset, let size, let fileLength):
            return "segment \(index) claims \(size) bytes at file offset \(offset) (0x\(hex(offset))), "
                + "outside the file's \(fileLength) bytes; the file is corrupt, rebuild it"
        case .memorySizeSmallerThanFileSize(let index, let fileSize, let memorySize):
            return "segment \(index) has a memory size (\(memorySize) bytes) smaller than its file size "
                + "(\(fileSize) bytes); the file is corrupt, rebuild it"
        case .segmentAddressOverflow(let index, let space, let address, let memorySize):
            return "segment \(index) at \(space) address 0x\(hex(address)) with \(memorySize) bytes runs past "
                + "the top of the 64-bit address space; fix the addresses in the linker script and relink"
        case .overlappingSegments(let first, let second, let space, let firstRange, let secondRange):
            return "loadable segments \(first) (0x\(hex(firstRange.lowerBound))-0x\(hex(firstRange.upperBound))) and "
                + "\(second) (0x\(hex(secondRange.lowerBound))-0x\(hex(secondRange.upperBound))) overlap in "
                + "\(space) address space; fix the linker script so that sections do not overlap, and relink"
        case .noLoadableSegment:
            return "the file has no loadable segment (no PT_LOAD program header with a non-zero size), "
                + "so there is nothing to run; link it into an executable with riscv64-linux-gnu-gcc -static -no-pie"
        case .entryOutsideSegments(let entry):
            return "the entry point 0x\(hex(entry)) (e_entry) is not inside any loadable segment; "
                + "define _start (or set ENTRY in the linker script) and relink"
        case .symbolTableEntryTooSmall(let size):
            return "symbol table entries are \(size) bytes (sh_entsize of .symtab), smaller than the 24 bytes "
                + "of an ELF64 symbol; the file is corrupt, rebuild it (or strip it with riscv64-linux-gnu-strip)"
        case .stringTableIndexOutOfRange(let index, let count):
            return "the symbol table's string table is section \(index) (sh_link), but the file has only "
                + "\(count) sections; the file is corrupt, rebuild it (or strip it with riscv64-linux-gnu-strip)"
        }
    }
}

/// Lower-case hexadecimal without leading zeros.
private func hex(_ value: UInt64) -> String {
    String(value, radix: 16)
}
