// libFuzzer harness for the ELF parser.
//
// Built by run.sh together with Sources/ELF/*.swift into one module (so there is no `import ELF`):
//   swiftc -sanitize=fuzzer,address -parse-as-library FuzzELF.swift ../../Sources/ELF/*.swift
//
// Every input must either parse into a file that keeps ELFFile's documented guarantees or throw
// an ELFError with a message. Anything else (a trap, an out-of-bounds access caught by the
// address sanitizer, a broken guarantee, a hang caught by -timeout) is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func lockstepFuzzELF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        let elf = try ELFFile(bytes: bytes)
        check(elf)
        for name in ["_start", "main", "tohost", "counter", "", "\0", "a\0b"] {
            _ = elf.symbol(named: name)
        }
    } catch {
        precondition(!error.description.isEmpty, "empty message for \(error)")
    }
    return 0
}

/// Traps if a parsed file breaks a guarantee documented on `ELFFile` / `ProgramSegment`.
private func check(_ elf: ELFFile) {
    precondition(!elf.segments.isEmpty, "parsed with no segments")
    for (i, s) in elf.segments.enumerated() {
        precondition(s.memorySize > 0, "segment \(i) has memorySize 0")
        precondition(s.fileSize <= s.memorySize, "segment \(i): fileSize > memorySize")
        precondition(UInt64(s.data.count) == s.fileSize, "segment \(i): data.count != fileSize")
        precondition(!s.virtualAddress.addingReportingOverflow(s.memorySize - 1).overflow, "segment \(i) wraps (v)")
        precondition(!s.physicalAddress.addingReportingOverflow(s.memorySize - 1).overflow, "segment \(i) wraps (p)")
    }
    for (i, s) in elf.segments.enumerated() {
        for (j, t) in elf.segments.enumerated() where j > i {
            let vOverlap = s.virtualAddress <= t.virtualAddress + (t.memorySize - 1)
                && t.virtualAddress <= s.virtualAddress + (s.memorySize - 1)
            let pOverlap = s.physicalAddress <= t.physicalAddress + (t.memorySize - 1)
                && t.physicalAddress <= s.physicalAddress + (s.memorySize - 1)
            precondition(!vOverlap && !pOverlap, "segments \(i) and \(j) overlap")
        }
    }
    precondition(elf.segments.contains { $0.virtualAddress <= elf.entry && elf.entry - $0.virtualAddress < $0.memorySize },
                 "entry outside every segment")
}
