/// For each indirect jump (and exit to another page) of generated code, the block its last
/// target ran: a slot that the jump's code checks before the inline lookup of the block table
/// (see ``BlockTranslator``), so that a jump that keeps going to the same place (a call through
/// a function pointer, a return to the one caller) costs a few compares instead of the lookup.
///
/// Each slot is 32 bytes in a C layout that generated code reads and writes: the target pc, the
/// hart's fetch-TLB epoch and the memory's code generation when the inline lookup found the
/// block, and the host address of the block's code. A slot is used only while both counters are
/// unchanged: then the fetch TLB maps the pc exactly as it did (the epoch moves with every fill
/// and flush) and no page's code version moved (the generation moves with each), so the block is
/// still a current translation of the instructions at that pc. Emptied with the code buffer.
///
/// Not `Sendable`: one accelerator (one thread) owns it; generated code touches it only while
/// that thread runs it.
final class JumpTargetCache {
    static let slots = 1 << 14
    static let slotBytes = 32
    static let pcField = 0, epochField = 8, generationField = 16, codeField = 24

    /// The first slot. Sound to access for `slots * slotBytes` bytes until deinit.
    let base: UnsafeMutableRawPointer
    /// Slots given to jumps since the last ``clear()``.
    private var used = 0

    init() {
        base = .allocate(byteCount: Self.slots * Self.slotBytes, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.slots * Self.slotBytes)
        clear()
    }

    deinit { base.deallocate() }

    /// The host address of a slot for a new jump (empty: it matches no pc), nil when all are given.
    func nextSlot() -> UInt? {
        guard used < Self.slots else { return nil }
        defer { used += 1 }
        return UInt(bitPattern: base + used * Self.slotBytes)
    }

    /// Empties every slot (the code they point to is gone) and gives them out again.
    func clear() {
        for index in 0 ..< Self.slots {
            // Odd: never a jump target (jalr clears bit 0, every other target is a pc).
            (base + index * Self.slotBytes).storeBytes(of: UInt64.max, toByteOffset: Self.pcField, as: UInt64.self)
        }
        used = 0
    }
}
