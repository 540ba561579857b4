import Machine
import RISCV
import Testing

/// The PLIC as the SiFive PLIC specification and QEMU's `virt` describe it, driven through its
/// registers the way irq-sifive-plic.c does.
@Suite struct PLICTests {
    static let threshold0: UInt64 = 0x20_0000, claim0: UInt64 = 0x20_0004
    static let threshold1: UInt64 = 0x20_1000, claim1: UInt64 = 0x20_1004
    static func enable(context: Int, word: Int = 0) -> UInt64 { 0x2000 + 0x80 * UInt64(context) + 4 * UInt64(word) }

    /// A PLIC whose output changes are recorded.
    final class Probe {
        let plic = PLIC()
        var changes: [(Int, Bool)] = []
        init() { plic.onOutputChange = { [unowned self] in changes.append(($0, $1)) } }
        func r(_ offset: UInt64) -> UInt32 { UInt32(plic.read(offset: offset, size: 4)) }
        func w(_ offset: UInt64, _ value: UInt32) { plic.write(offset: offset, size: 4, value: UInt64(value)) }
        func setPriority(_ source: Int, _ priority: UInt32) { w(UInt64(4 * source), priority) }
        func enable(_ sources: [Int], context: Int) {
            var words = [UInt32](repeating: 0, count: 3)
            for s in sources { words[s / 32] |= 1 << UInt32(s % 32) }
            for (i, word) in words.enumerated() { w(PLICTests.enable(context: context, word: i), word) }
        }
    }

    @Test func windowIsTheVirtMemoryMapSize() {
        #expect(PLIC().windowSize == 0x60_0000)
        #expect(PLIC.defaultBase == 0x0C00_0000)
    }

    @Test func priorityZeroNeverInterrupts() {
        let p = Probe()
        p.enable([10], context: 0)
        p.plic.setLevel(source: 10, true)
        #expect(!p.plic.isAsserted(context: 0))
        #expect(p.r(Self.claim0) == 0)
        p.setPriority(10, 1)
        #expect(p.plic.isAsserted(context: 0))
        #expect(p.r(Self.claim0) == 10)
    }

    @Test func thresholdMasksPrioritiesAtOrBelowIt() {
        let p = Probe()
        p.enable([3], context: 1)
        p.setPriority(3, 4)
        p.w(Self.threshold1, 4)
        p.plic.setLevel(source: 3, true)
        #expect(!p.plic.isAsserted(context: 1))
        #expect(p.r(Self.claim1) == 0)
        p.w(Self.threshold1, 3)
        #expect(p.plic.isAsserted(context: 1))
        #expect(p.changes.last! == (1, true))
        p.w(Self.threshold1, 7)
        #expect(!p.plic.isAsserted(context: 1))
        #expect(p.changes.last! == (1, false))
        #expect(p.r(Self.threshold1) == 7)
    }

    @Test func claimOrderIsPriorityThenLowestID() {
        let p = Probe()
        p.enable([3, 5, 7, 40], context: 0)
        p.setPriority(3, 2)
        p.setPriority(5, 5)
        p.setPriority(7, 5)
        p.setPriority(40, 6)
        for s in [3, 5, 7, 40] { p.plic.setLevel(source: s, true) }
        #expect(p.r(Self.claim0) == 40)
        #expect(p.r(Self.claim0) == 5)
        #expect(p.r(Self.claim0) == 7)
        #expect(p.r(Self.claim0) == 3)
        #expect(p.r(Self.claim0) == 0)
        #expect(!p.plic.isAsserted(context: 0))
    }

    @Test func claimedSourceIsNotPendingAgainUntilCompleted() {
        let p = Probe()
        p.enable([1], context: 1)
        p.setPriority(1, 1)
        p.plic.setLevel(source: 1, true)
        #expect(p.r(0x1000) == 1 << 1)
        #expect(p.r(Self.claim1) == 1)
        #expect(p.r(0x1000) == 0)
        #expect(!p.plic.isAsserted(context: 1))
        // Re-asserting while claimed is absorbed by the gateway.
        p.plic.setLevel(source: 1, true)
        #expect(p.r(Self.claim1) == 0)
        // Completion with the line still high makes a new request.
        p.w(Self.claim1, 1)
        #expect(p.plic.isAsserted(context: 1))
        #expect(p.r(Self.claim1) == 1)
        // The device lowers its line before the handler completes: nothing more.
        p.plic.setLevel(source: 1, false)
        p.w(Self.claim1, 1)
        #expect(!p.plic.isAsserted(context: 1))
        #expect(p.r(Self.claim1) == 0)
    }

    @Test func droppingTheLineBeforeClaimWithdrawsTheRequest() {
        let p = Probe()
        p.enable([9], context: 0)
        p.setPriority(9, 3)
        p.plic.setLevel(source: 9, true)
        #expect(p.plic.isAsserted(context: 0))
        p.plic.setLevel(source: 9, false)
        #expect(!p.plic.isAsserted(context: 0))
        #expect(p.r(Self.claim0) == 0)
    }

    @Test func completingAnUnclaimedSourceIsIgnored() {
        let p = Probe()
        p.enable([2], context: 0)
        p.setPriority(2, 1)
        p.plic.setLevel(source: 2, true)
        p.w(Self.claim0, 2)   // not claimed: no effect
        #expect(p.r(Self.claim0) == 2)
        p.w(Self.claim0, 200) // out of range: no effect
        p.w(Self.claim0, 2)
        #expect(p.plic.isAsserted(context: 0))   // still high, so pending again
    }

    @Test func enablesArePerContext() {
        let p = Probe()
        p.setPriority(33, 1)
        p.enable([33], context: 1)
        p.plic.setLevel(source: 33, true)
        #expect(!p.plic.isAsserted(context: 0))
        #expect(p.plic.isAsserted(context: 1))
        #expect(p.r(Self.enable(context: 1, word: 1)) == 1 << 1)
        #expect(p.r(Self.enable(context: 0, word: 1)) == 0)
        #expect(p.r(Self.claim0) == 0)
        #expect(p.r(Self.claim1) == 33)
        // Enabling in context 0 too: the claimed source is not offered twice.
        p.enable([33], context: 0)
        #expect(p.r(Self.claim0) == 0)
        p.w(Self.claim1, 33)
        #expect(p.plic.isAsserted(context: 0) && p.plic.isAsserted(context: 1))
        #expect(p.r(Self.claim0) == 33)
        #expect(!p.plic.isAsserted(context: 1))
    }

    @Test func registersAreWARLAndWordSized() {
        let p = Probe()
        p.setPriority(5, 0xFFFF_FFFF)
        #expect(p.r(4 * 5) == 7)
        p.w(Self.threshold0, 0x1F)
        #expect(p.r(Self.threshold0) == 7)
        p.w(Self.enable(context: 0), 0xFFFF_FFFF)
        #expect(p.r(Self.enable(context: 0)) == 0xFFFF_FFFE)   // source 0 does not exist
        p.w(0x1000, 0xFFFF_FFFF)                                // pending is read-only
        #expect(p.r(0x1000) == 0)
        #expect(p.plic.read(offset: 4 * 5, size: 8) == 0)       // only 32-bit accesses
        p.plic.write(offset: 4 * 6, size: 1, value: 3)
        #expect(p.r(4 * 6) == 0)
        #expect(p.r(0x50_0000) == 0)                            // unused part of the window
        p.plic.setLevel(source: 0, true)                        // source 0 and 96+ are ignored
        p.plic.setLevel(source: 96, true)
        #expect(p.r(0x1000) == 0 && p.r(0x1008) == 0)
    }

    @Test func outputsDriveTheHartExternalInterruptBits() {
        let memory = GuestMemory(base: 0x8000_0000, size: 1 << 20)!
        let hart = Hart(memory: memory, bus: MemoryMappedBus())
        let plic = PLIC()
        plic.connect(to: hart)
        let mip: UInt16 = 0x344
        func mipBits() -> UInt64 { hart.debugReadCSR(mip)! & (InterruptCause.machineExternal.mask | InterruptCause.supervisorExternal.mask) }
        plic.write(offset: 4 * 10, size: 4, value: 1)
        plic.write(offset: 0x2000, size: 4, value: 1 << 10)
        plic.write(offset: 0x2080, size: 4, value: 1 << 10)
        plic.setLevel(source: 10, true)
        #expect(mipBits() == InterruptCause.machineExternal.mask | InterruptCause.supervisorExternal.mask)
        #expect(plic.read(offset: 0x20_1004, size: 4) == 10)   // S-mode claims it: both lines drop
        #expect(mipBits() == 0)
        plic.setLevel(source: 10, false)
        plic.write(offset: 0x20_1004, size: 4, value: 10)
        #expect(mipBits() == 0)
    }
}
