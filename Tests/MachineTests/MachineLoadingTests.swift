import HostIO
import ELF
import Foundation
import Machine
import Testing

/// Loading programs: errors a user can cause are typed and say what to do.
@Suite struct MachineLoadingTests {
    /// The bytes of a built guest with the physical address of its first PT_LOAD moved.
    func helloWithFirstSegment(at address: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Repository.guest("hello"))))
        func read(_ offset: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        let phoff = Int(read(0x20, 8)), phentsize = Int(read(0x36, 2)), phnum = Int(read(0x38, 2))
        for i in 0..<phnum where read(phoff + i * phentsize, 4) == 1 {   // PT_LOAD
            let field = phoff + i * phentsize + 0x18                       // p_paddr
            for b in 0..<8 { bytes[field + b] = UInt8(truncatingIfNeeded: address >> (8 * UInt64(b))) }
            return bytes
        }
        throw TestSetupError("hello.elf has no PT_LOAD")
    }

    @Test func segmentOutsideRAMIsRejected() throws {
        let elf = try ELFFile(bytes: try helloWithFirstSegment(at: 0x1000))
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 16 << 20))
        #expect(throws: MachineError.self) { try machine.load(elf: elf) }
        do {
            try machine.load(elf: elf)
        } catch {
            #expect(error.description.contains("outside RAM"))
            #expect(error.description.contains("0x1000"))
        }
    }

    @Test func segmentPastEndOfRAMIsRejected() throws {
        let elf = try ELFFile(bytes: try helloWithFirstSegment(at: 0x8000_0000 + (16 << 20) - 16))
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 16 << 20))
        #expect(throws: MachineError.self) { try machine.load(elf: elf) }
    }

    @Test func notAnELFGivesAClearError() throws {
        let machine = try Machine()
        let path = Repository.root.appendingPathComponent("Package.swift").path
        do {
            try machine.load(elfAt: path)
            Issue.record("loading Package.swift as a program succeeded")
        } catch {
            #expect(error.description.contains("not an ELF"))
        }
    }

    @Test func missingFileGivesAClearError() throws {
        let machine = try Machine()
        #expect(throws: MachineError.self) { try machine.load(elfAt: "/nonexistent/program.elf") }
    }

    @Test func invalidMemorySizesAreRejected() {
        for size: UInt64 in [0, 4096, (1 << 20) + 1, 128 << 30] {
            #expect(throws: MachineError.invalidMemorySize(size)) {
                _ = try Machine(configuration: MachineConfiguration(memorySize: size))
            }
        }
    }

    @Test func idleGuestIsReported() throws {
        // A guest that executes WFI with no interrupt source armed can never wake up.
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 1 << 20))
        machine.memory.write([0x73, 0x00, 0x50, 0x10], at: 0x8000_0000)   // wfi
        #expect(machine.run(instructionLimit: 100) == .idle)
        #expect(machine.instructionCount == 1)
    }
}
