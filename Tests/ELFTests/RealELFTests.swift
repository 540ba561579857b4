import ELF
import Foundation
import Testing

/// Real programs from the cross compiler, checked field by field against readelf.
@Suite struct RealELFTests {
    /// Parses `url` both ways and compares entry, every loadable segment and every symbol readelf lists.
    private func compareWithReadelf(_ url: URL) throws -> (ELFFile, ReadelfReference) {
        let reference = try ReadelfReference(parsing: Toolchain.run(Toolchain.readelf, ["-lhs", "--wide", url.path]))
        let bytes = [UInt8](try Data(contentsOf: url))
        let elf = try ELFFile(contentsOf: url.path)

        #expect(reference.entry != nil, "readelf printed no entry point")
        #expect(elf.entry == reference.entry)

        let loads = reference.segments.filter { $0.type == "LOAD" && $0.memorySize > 0 }
        #expect(!loads.isEmpty, "readelf listed no LOAD segment")
        #expect(elf.segments.count == loads.count)
        for (segment, expected) in zip(elf.segments, loads) {
            #expect(segment.virtualAddress == expected.virtualAddress)
            #expect(segment.physicalAddress == expected.physicalAddress)
            #expect(segment.fileSize == expected.fileSize)
            #expect(segment.memorySize == expected.memorySize)
            #expect(segment.flags.description.trimmingCharacters(in: .whitespaces) == expected.flags)
            let start = Int(expected.offset)
            #expect(segment.data == Array(bytes[start ..< start + Int(expected.fileSize)]))
        }

        let names = Set(reference.symbols.map(\.name).filter { !$0.isEmpty })
        for name in names {
            #expect(elf.symbol(named: name) == reference.expectedAddress(of: name), "symbol \(name)")
        }
        return (elf, reference)
    }

    @Test func programMatchesReadelf() throws {
        let fixtures = try Toolchain.fixtures()
        let (elf, reference) = try compareWithReadelf(fixtures.program)

        // The program was linked at 0x80000000 with _start as its entry point.
        #expect(elf.symbol(named: "_start") == elf.entry)
        #expect(elf.symbol(named: "helper") == 0x8000_0000 || elf.symbol(named: "accumulate") == 0x8000_0000)
        // Code and data, and .bss makes the data segment larger in memory than in the file.
        #expect(elf.segments.contains { $0.flags == [.readable, .executable] })
        #expect(elf.segments.contains { $0.flags == [.readable, .writable] && $0.memorySize > $0.fileSize })
        // Initialized data: `counter` holds 42 in the segment that contains it.
        let counter = try #require(elf.symbol(named: "counter"))
        let segment = try #require(elf.segments.first {
            $0.virtualAddress <= counter && counter + 8 <= $0.virtualAddress + $0.fileSize
        })
        let at = Int(counter - segment.virtualAddress)
        #expect(ELFBytes(segment.data).read(at, 8) == 42)
        // Symbols of every binding, and non-symbols.
        #expect(reference.symbols.contains { $0.name == "hidden_total" && $0.binding == "LOCAL" })
        #expect(reference.symbols.contains { $0.name == "tunable" && $0.binding == "WEAK" })
        #expect(elf.symbol(named: "hidden_total") != nil)
        #expect(elf.symbol(named: "tunable") != nil)
        #expect(elf.symbol(named: "no_such_symbol") == nil)
        #expect(elf.symbol(named: "") == nil)
        #expect(elf.symbol(named: ".text") == nil, "section symbols are not program symbols")
        #expect(elf.symbol(named: "program.c") == nil, "file symbols are not program symbols")
        // A non-LOAD program header (RISCV_ATTRIBUTES, GNU_STACK) is not a segment.
        #expect(reference.segments.contains { $0.type != "LOAD" })
    }

    @Test func strippedProgramHasSegmentsButNoSymbols() throws {
        let fixtures = try Toolchain.fixtures()
        let (elf, _) = try compareWithReadelf(fixtures.stripped)
        let original = try ELFFile(bytes: fixtures.bytes)
        #expect(elf.entry == original.entry)
        #expect(elf.segments.layout == original.segments.layout)
        #expect(elf.segments.last?.data == original.segments.last?.data)
        #expect(elf.symbol(named: "_start") == nil)
        #expect(elf.symbol(named: "counter") == nil)
    }

    @Test func optimizationLevelsAndAssemblyMatchReadelf() throws {
        for (index, flags) in [["-O0"], ["-O2", "-ffunction-sections", "-Wl,--gc-sections"], ["-Os", "-g"]].enumerated() {
            let url = try Toolchain.compile(Toolchain.program, name: "variant\(index)", flags: Toolchain.flags + flags)
            _ = try compareWithReadelf(url)
        }
        let assembly = try Toolchain.compile("""
            __asm__(".section .text.start\\n.globl _start\\n_start:\\n  la a0, message\\n  j _start\\n"
                    ".section .rodata\\nmessage: .asciz \\"hello\\"\\n");
            """, name: "assembly", flags: Toolchain.flags)
        let (elf, _) = try compareWithReadelf(assembly)
        #expect(elf.symbol(named: "message") != nil)
    }

    @Test func hostExecutableIsRejectedAsWrongMachine() throws {
        // /bin/true is an x86-64 (or other host) executable: a real ELF for the wrong machine.
        let error = #expect(throws: ELFError.self) { try ELFFile(contentsOf: "/bin/true") }
        guard case .wrongMachine(let machine) = error else {
            Issue.record("expected .wrongMachine, got \(String(describing: error))")
            return
        }
        #expect(machine != 243)
        #if arch(x86_64)
        #expect(machine == 62)
        #expect(error?.description.contains("x86-64") == true)
        #endif
        #expect(error?.description.contains("riscv64-linux-gnu-gcc") == true)
    }

    @Test func dynamicallyLinkedProgramIsRejected() throws {
        // A shared library and a program that uses it; neither needs the cross libc.
        let flags = ["-march=rv64gc", "-mabi=lp64d", "-nostdlib", "-Wl,--build-id=none"]
        let library = try Toolchain.compile("int lib_value(void) { return 7; }",
                                            name: "libdemo.so", flags: flags + ["-fPIC", "-shared"])
        let program = try Toolchain.compile("int lib_value(void); void _start(void) { lib_value(); for (;;) {} }",
                                            name: "dynamic", flags: flags + ["-fno-pie", "-no-pie"],
                                            libraries: [library.path])
        let error = #expect(throws: ELFError.self) { try ELFFile(contentsOf: program.path) }
        guard case .dynamicallyLinked(let interpreter) = error else {
            Issue.record("expected .dynamicallyLinked, got \(String(describing: error))")
            return
        }
        #expect(interpreter.contains("ld-linux-riscv64"))
        #expect(error?.description.contains("-static") == true)

        // The shared library itself is ET_DYN.
        #expect(throws: ELFError.positionIndependent) { try ELFFile(contentsOf: library.path) }
        // So is a position-independent executable.
        let pie = try Toolchain.compile(Toolchain.program, name: "pie", flags: flags + ["-fpie", "-pie"])
        let pieError = #expect(throws: ELFError.positionIndependent) { try ELFFile(contentsOf: pie.path) }
        #expect(pieError?.description.contains("-static -no-pie") == true)
    }
}
