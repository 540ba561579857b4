import GuestAssembly
import Machine
import RISCV
import Testing

/// Dirty-page tracking in GuestMemory: every way RAM is written marks the page, including stores
/// through write-TLB entries made before tracking started, and page-table A/D updates.
@Suite struct DirtyPageTests {
    static let base = MachineConfiguration.ramBase

    func page(_ address: UInt64) -> Int { Int((address - Self.base) / GuestMemory.pageSize) }

    @Test func hostWritesMarkPages() throws {
        let memory = GuestMemory(base: Self.base, size: 1 << 20)!
        #expect(memory.dirtyPages == nil)
        #expect(!memory.isTrackingDirtyPages)
        memory.startDirtyTracking()
        #expect(memory.dirtyPages == [])
        memory.write([1, 2, 3], at: Self.base + 3 * 4096 + 4094)   // straddles pages 3 and 4
        memory.zero(at: Self.base + 10 * 4096, count: 1)
        memory.store64(7, at: Self.base + 20 * 4096 + 8)
        memory.write([UInt8](), at: Self.base + 30 * 4096)         // nothing written: not dirty
        #expect(memory.dirtyPages == [3, 4, 10, 20])
        #expect(memory.isPageDirty(4) && !memory.isPageDirty(5))
        // Restarting forgets the dirty set; stopping turns tracking off.
        let generation = memory.dirtyTrackingGeneration
        memory.startDirtyTracking()
        #expect(memory.dirtyPages == [])
        #expect(memory.dirtyTrackingGeneration == generation + 1)
        memory.stopDirtyTracking()
        #expect(memory.dirtyPages == nil)
        #expect(!memory.isPageDirty(3))
    }

    /// Pages never written are reported untouched (so hashing and snapshots may skip them); any
    /// write, even of zeros, makes a page touched for good.
    @Test func untouchedPagesAreThoseNeverWritten() throws {
        let memory = GuestMemory(base: Self.base, size: 1 << 20)!
        #expect((0..<memory.pageCount).allSatisfy { memory.isUntouched(page: $0) })
        memory.write([1, 2, 3], at: Self.base + 3 * 4096 + 4094)
        memory.zero(at: Self.base + 10 * 4096, count: 1)
        memory.store64(0, at: Self.base + 20 * 4096 + 8)
        memory.startDirtyTracking()
        memory.stopDirtyTracking()
        let touched = (0..<memory.pageCount).filter { !memory.isUntouched(page: $0) }
        #expect(touched == [3, 4, 10, 20])
    }

    /// Guest stores, AMOs and SCs make their pages touched, and the state hash (which skips
    /// untouched pages) equals a hash that reads every page.
    @Test func guestStoresTouchPagesAndTheHashAgreesWithAFullRead() throws {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
        let image = try Assembler.assemble(Self.program)
        machine.memory.write(image, at: Self.base)
        #expect(machine.run(instructionLimit: 1_000_000) == .exited(code: 0))
        let dataStart = page(Self.base + ((UInt64(image.count) - 5 * 4096) & ~4095))
        for written in dataStart..<(dataStart + 4) { #expect(!machine.memory.isUntouched(page: written)) }
        #expect(machine.memory.isUntouched(page: dataStart + 4) == false)   // pageE: loaded (zeros) with the image
        #expect(machine.memory.isUntouched(page: dataStart + 6))
        var skipping = StateHasher(), reading = StateHasher()
        machine.memory.withRAMBytes { ram in
            skipping.combine(ram: ram, untouched: machine.memory.isUntouched(page:))
            reading.combine(ram: ram)
        }
        #expect(skipping.finalize() == reading.finalize())
    }

    /// Program: phase 1 stores to page A in a loop (the hart gets a write-TLB entry for it), then
    /// phase 2 stores to A and B, an AMO to C and an SC to D. Tracking starts in the middle of
    /// phase 1.
    static let program = """
            la t0, pageA
            la t2, pageB
            li t1, 200
        1:  sd t1, 0(t0)
            addi t1, t1, -1
            bnez t1, 1b
            li t1, 50
        2:  sd t1, 0(t0)
            sw t1, 8(t2)
            addi t1, t1, -1
            bnez t1, 2b
            la t3, pageC
            amoadd.d zero, t1, (t3)
            la t3, pageD
            lr.d t4, (t3)
            sc.d t4, t1, (t3)
            EXIT
        .section .data
        .align 12
        pageA: .space 4096
        pageB: .space 4096
        pageC: .space 4096
        pageD: .space 4096
        pageE: .space 4096
        """

    @Test func storesThroughTheHartMarkPagesEvenWithOldTLBEntries() throws {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
        let image = try Assembler.assemble(Self.program)
        machine.memory.write(image, at: Self.base)
        #expect(machine.run(instructionLimit: 300) == .instructionLimit)   // in phase 1's loop
        machine.startDirtyTracking()
        #expect(machine.run(instructionLimit: 1_000_000) == .exited(code: 0))
        let dirty = try #require(machine.memory.dirtyPages)
        // The data pages follow the code, each 4 KiB aligned; pageE is never written, nor is the
        // code page (executed and read only).
        let dataStart = page(Self.base + ((UInt64(image.count) - 5 * 4096) & ~4095))
        #expect(dirty == [dataStart, dataStart + 1, dataStart + 2, dataStart + 3], "dirty: \(dirty), data from page \(dataStart)")
        #expect(!dirty.contains(0))
    }

    /// The same program with tracking restarted again and again (every 7 instructions): the pages
    /// reported dirty in each interval are exactly those whose contents changed in it, or a superset.
    @Test func everyChangedPageIsReported() throws {
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
        machine.memory.write(try Assembler.assemble(Self.program), at: Self.base)
        var previous = machine.memory.read(at: Self.base, count: 64 * 4096)
        machine.startDirtyTracking()
        var stop = Machine.StopReason.instructionLimit
        while stop == .instructionLimit {
            stop = machine.run(instructionLimit: machine.instructionCount + 7)
            let now = machine.memory.read(at: Self.base, count: 64 * 4096)
            let dirty = Set(machine.memory.dirtyPages ?? [])
            for p in 0..<64 where previous[p * 4096..<(p + 1) * 4096] != now[p * 4096..<(p + 1) * 4096] {
                #expect(dirty.contains(p), "page \(p) changed by instruction \(machine.instructionCount) but is not dirty")
            }
            previous = now
            machine.startDirtyTracking()
        }
        #expect(stop == .exited(code: 0))
    }

    /// The page walker's A/D updates are RAM stores: a page table page becomes dirty when a
    /// translation sets A or D in one of its entries.
    @Test func pageTableUpdatesMarkThePageTable() throws {
        // Identity-map the first GiB of RAM with one Sv39 gigapage (A and D clear), switch to S-mode
        // and store through it. (The ecall traps to M-mode, whose handler powers off.)
        let machine = try Machine(configuration: MachineConfiguration(memorySize: 4 << 20))
        let image = try Assembler.assemble("""
                la t0, handler
                csrw mtvec, t0
                la t0, root
                li t1, 0x80000000
                srli t1, t1, 12
                slli t1, t1, 10
                ori t1, t1, 0xF        # V R W X, A and D clear
                sd t1, 16(t0)          # entry 2 maps 0x80000000
                srli t0, t0, 12
                li t1, 8
                slli t1, t1, 60
                or t0, t0, t1
                csrw satp, t0
                la t0, supervisor
                csrw mepc, t0
                li t0, 0x800           # MPP = S
                csrw mstatus, t0
                mret
            supervisor:
                la t0, target
                sd t0, 0(t0)
                ecall
            .align 2
            handler:
                EXIT
            .section .data
            .align 12
            root: .space 4096
            target: .space 8
            """)
        machine.memory.write(image, at: Self.base)
        // Run up to the mret (the root table is written before), then track.
        var count: UInt64 = 0
        while machine.hart.privilege == .machine {
            count += 1
            _ = machine.run(instructionLimit: count)
        }
        machine.startDirtyTracking()
        #expect(machine.run(instructionLimit: count + 100) == .exited(code: 0))
        let rootPage = page(Self.base + ((UInt64(image.count) - 4096 - 8) & ~4095))
        let dirty = try #require(machine.memory.dirtyPages)
        #expect(dirty.contains(rootPage), "the root page table (page \(rootPage)) got A/D bits: dirty \(dirty)")
        #expect(dirty.contains(rootPage + 1), "the store target: dirty \(dirty)")
        let pte = machine.memory.load64(at: Self.base + UInt64(rootPage) * 4096 + 16)
        #expect(pte & 0xC0 == 0xC0, "A and D set")
    }
}
