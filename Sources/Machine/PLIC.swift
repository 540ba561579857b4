import RISCV

/// The SiFive platform-level interrupt controller of QEMU's `virt` machine, for one hart with two
/// contexts: context 0 is hart 0 in M-mode, context 1 is hart 0 in S-mode.
///
/// Register map (all registers 32 bits wide; other access sizes read 0 and are ignored):
/// - `0x000000 + 4*source`: priority of each source (3 bits, WARL; source 0 does not exist),
/// - `0x001000`: pending bits, 32 sources per word (read-only),
/// - `0x002000 + 0x80*context`: enable bits of each context,
/// - `0x200000 + 0x1000*context`: priority threshold of each context,
/// - `0x200004 + 0x1000*context`: claim (read) / complete (write).
///
/// Sources are level-triggered. Each has a gateway: while a source's request is pending or
/// claimed, further assertions are absorbed; after the handler completes the source, a line that
/// is still high makes it pending again. A line that drops before its request is claimed withdraws
/// the request (as QEMU does), so a handler never claims a source that is no longer asserted.
///
/// A context's external-interrupt output is high while some pending, enabled, unclaimed source
/// has a priority above the context's threshold. ``onOutputChange`` reports every change.
public final class PLIC: MemoryMappedDevice {
    /// Base address on QEMU's `virt` machine.
    public static let defaultBase: UInt64 = 0x0C00_0000
    /// Number of interrupt sources including the non-existent source 0 (`virt`'s 96).
    public static let sourceCount = 96
    /// Number of contexts: hart 0 M-mode and hart 0 S-mode.
    public static let contextCount = 2
    /// Highest priority (3 priority bits, as on `virt`).
    public static let maximumPriority: UInt32 = 7

    /// The window the `virt` memory map reserves for the PLIC (`VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2)`,
    /// the size in the device tree). Only the first `0x202000` bytes hold registers for two contexts.
    public let windowSize: UInt64 = 0x60_0000

    static let pendingBase: UInt64 = 0x1000
    static let enableBase: UInt64 = 0x2000
    static let enableStride: UInt64 = 0x80
    static let contextBase: UInt64 = 0x20_0000
    static let contextStride: UInt64 = 0x1000
    static let words = (sourceCount + 31) / 32

    /// Called with a context number and its new output level whenever a context's
    /// external-interrupt line changes. ``connect(to:)`` wires the two contexts to a hart.
    public var onOutputChange: ((_ context: Int, _ asserted: Bool) -> Void)?

    private var priority = [UInt32](repeating: 0, count: PLIC.sourceCount)
    private var threshold = [UInt32](repeating: 0, count: PLIC.contextCount)
    private var enable = [UInt32](repeating: 0, count: PLIC.contextCount * PLIC.words)
    /// Input line levels.
    private var level = [UInt32](repeating: 0, count: PLIC.words)
    /// Interrupt-pending bits (requests forwarded by the gateways, not yet claimed).
    private var pending = [UInt32](repeating: 0, count: PLIC.words)
    /// Sources claimed and not yet completed.
    private var claimed = [UInt32](repeating: 0, count: PLIC.words)
    private var outputs = [Bool](repeating: false, count: PLIC.contextCount)

    public init() {}

    /// Connects context 0 to the hart's machine external interrupt (MEIP) and context 1 to its
    /// supervisor external interrupt (SEIP).
    public func connect(to hart: Hart) {
        onOutputChange = { [weak hart] context, asserted in
            hart?.setInterruptPending(context == 0 ? .machineExternal : .supervisorExternal, asserted)
        }
        for context in 0..<PLIC.contextCount where outputs[context] { onOutputChange?(context, true) }
    }

    /// Whether context `context`'s external-interrupt output is asserted.
    public func isAsserted(context: Int) -> Bool { outputs[context] }

    /// Sets the level of input `source` (1...95). Devices call this whenever their interrupt
    /// condition may have changed; repeating the current level has no effect.
    public func setLevel(source: Int, _ high: Bool) {
        guard source > 0 && source < PLIC.sourceCount else { return }
        let word = source >> 5, bit = UInt32(1) << UInt32(source & 31)
        if high {
            level[word] |= bit
            if claimed[word] & bit == 0 { pending[word] |= bit }
        } else {
            level[word] &= ~bit
            pending[word] &= ~bit
        }
        update()
    }

    /// The source context `context` would claim now (0 if none), without claiming it.
    public func highestPending(context: Int) -> Int {
        var best = 0
        var bestPriority = threshold[context]
        for word in 0..<PLIC.words {
            var candidates = pending[word] & ~claimed[word] & enable[context * PLIC.words + word]
            while candidates != 0 {
                let bit = candidates.trailingZeroBitCount
                candidates &= candidates - 1
                let source = word * 32 + bit
                guard source < PLIC.sourceCount else { break }
                if priority[source] > bestPriority {   // strict: ties go to the lowest id
                    best = source
                    bestPriority = priority[source]
                }
            }
        }
        return best
    }

    /// Claims the highest-priority pending source for `context` (0 if none), as a read of the
    /// claim register does.
    public func claim(context: Int) -> Int {
        let source = highestPending(context: context)
        if source != 0 {
            let word = source >> 5, bit = UInt32(1) << UInt32(source & 31)
            pending[word] &= ~bit
            claimed[word] |= bit
        }
        update()
        return source
    }

    /// Completes `source`, as a write to the claim/complete register does. Like QEMU, the
    /// completion is accepted whichever context claimed the source and whatever the enables are.
    public func complete(context: Int, source: Int) {
        guard source > 0 && source < PLIC.sourceCount else { return }
        let word = source >> 5, bit = UInt32(1) << UInt32(source & 31)
        guard claimed[word] & bit != 0 else { return }
        claimed[word] &= ~bit
        if level[word] & bit != 0 { pending[word] |= bit }
        update()
    }

    /// Recomputes both outputs and reports changes.
    private func update() {
        for context in 0..<PLIC.contextCount {
            let asserted = highestPending(context: context) != 0
            if asserted != outputs[context] {
                outputs[context] = asserted
                onOutputChange?(context, asserted)
            }
        }
    }

    public func read(offset: UInt64, size: Int) -> UInt64 {
        guard size == 4 && offset & 3 == 0 else { return 0 }
        switch offset {
        case 0..<UInt64(PLIC.sourceCount * 4):
            return UInt64(priority[Int(offset / 4)])
        case PLIC.pendingBase..<PLIC.pendingBase + UInt64(PLIC.words * 4):
            return UInt64(pending[Int((offset - PLIC.pendingBase) / 4)])
        case PLIC.enableBase..<PLIC.enableBase + UInt64(PLIC.contextCount) * PLIC.enableStride:
            let context = Int((offset - PLIC.enableBase) / PLIC.enableStride)
            let word = Int((offset - PLIC.enableBase) % PLIC.enableStride / 4)
            return word < PLIC.words ? UInt64(enable[context * PLIC.words + word]) : 0
        case PLIC.contextBase..<PLIC.contextBase + UInt64(PLIC.contextCount) * PLIC.contextStride:
            let context = Int((offset - PLIC.contextBase) / PLIC.contextStride)
            switch (offset - PLIC.contextBase) % PLIC.contextStride {
            case 0: return UInt64(threshold[context])
            case 4: return UInt64(claim(context: context))
            default: return 0
            }
        default:
            return 0
        }
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard size == 4 && offset & 3 == 0 else { return }
        let value32 = UInt32(truncatingIfNeeded: value)
        switch offset {
        case 4..<UInt64(PLIC.sourceCount * 4):
            priority[Int(offset / 4)] = value32 & PLIC.maximumPriority
            update()
        case PLIC.enableBase..<PLIC.enableBase + UInt64(PLIC.contextCount) * PLIC.enableStride:
            let context = Int((offset - PLIC.enableBase) / PLIC.enableStride)
            let word = Int((offset - PLIC.enableBase) % PLIC.enableStride / 4)
            guard word < PLIC.words else { return }
            // Source 0 does not exist; bits above the last source are hard-wired to zero.
            var mask: UInt32 = ~0
            if word == 0 { mask &= ~1 }
            let lastBits = PLIC.sourceCount - word * 32
            if lastBits < 32 { mask &= (1 << UInt32(lastBits)) - 1 }
            enable[context * PLIC.words + word] = value32 & mask
            update()
        case PLIC.contextBase..<PLIC.contextBase + UInt64(PLIC.contextCount) * PLIC.contextStride:
            let context = Int((offset - PLIC.contextBase) / PLIC.contextStride)
            switch (offset - PLIC.contextBase) % PLIC.contextStride {
            case 0:
                threshold[context] = value32 & PLIC.maximumPriority
                update()
            case 4:
                complete(context: context, source: Int(value32))
            default:
                break
            }
        default:
            break   // pending bits are read-only; everything else is reserved
        }
    }
}

// MARK: Snapshot

extension PLIC {
    /// Writes priorities, thresholds, enables, line levels, pending and claimed bits. The outputs
    /// are not written: they follow from the rest.
    public func save(to writer: inout StateWriter) {
        for value in priority { writer.writeUInt32(value) }
        for value in threshold { writer.writeUInt32(value) }
        for value in enable { writer.writeUInt32(value) }
        for value in level { writer.writeUInt32(value) }
        for value in pending { writer.writeUInt32(value) }
        for value in claimed { writer.writeUInt32(value) }
    }

    /// Reads what ``save(to:)`` wrote (all or nothing), then recomputes both outputs and reports
    /// them to ``onOutputChange`` whether or not they changed, so the hart's MEIP/SEIP lines match.
    public func restore(from reader: inout StateReader) throws(SnapshotError) {
        func words(_ count: Int, _ what: String, mask: UInt32) throws(SnapshotError) -> [UInt32] {
            var values: [UInt32] = []
            for i in 0..<count {
                let value = try reader.readUInt32("PLIC \(what) \(i)")
                guard value & ~mask == 0 else { throw reader.invalid("PLIC \(what) \(i) is 0x\(String(value, radix: 16)), beyond its legal bits") }
                values.append(value)
            }
            return values
        }
        var newPriority = try words(PLIC.sourceCount, "priority", mask: PLIC.maximumPriority)
        newPriority[0] = 0
        let newThreshold = try words(PLIC.contextCount, "threshold", mask: PLIC.maximumPriority)
        // Source 0 does not exist: bit 0 of the first word is never set.
        var sourceMasks = [UInt32](repeating: ~0, count: PLIC.words)
        sourceMasks[0] &= ~1
        var newEnable: [UInt32] = []
        for context in 0..<PLIC.contextCount {
            for word in 0..<PLIC.words { newEnable += try words(1, "context \(context) enable word \(word)", mask: sourceMasks[word]) }
        }
        var bitmaps: [[UInt32]] = []
        for what in ["level", "pending", "claimed"] {
            var values: [UInt32] = []
            for word in 0..<PLIC.words { values += try words(1, "\(what) word \(word)", mask: sourceMasks[word]) }
            bitmaps.append(values)
        }
        let (newLevel, newPending, newClaimed) = (bitmaps[0], bitmaps[1], bitmaps[2])
        // The gateways' invariants: a request is pending only while its line is high and it is
        // not claimed, and a high unclaimed line always has its request pending.
        for word in 0..<PLIC.words {
            let l = newLevel[word], p = newPending[word], c = newClaimed[word]
            guard p & ~l == 0, p & c == 0, l & ~c & ~p == 0 else {
                throw reader.invalid("PLIC word \(word): level 0x\(String(l, radix: 16)), pending 0x\(String(p, radix: 16)) and claimed 0x\(String(c, radix: 16)) contradict each other")
            }
        }
        priority = newPriority
        threshold = newThreshold
        enable = newEnable
        level = newLevel
        pending = newPending
        claimed = newClaimed
        for context in 0..<PLIC.contextCount {
            outputs[context] = highestPending(context: context) != 0
            onOutputChange?(context, outputs[context])
        }
    }
}
