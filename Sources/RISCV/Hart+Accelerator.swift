/// What a binary translator (the JIT module) needs from the hart: where the registers, TLBs and
/// state lie in the hart's block, the interpreter for everything it does not translate, and the
/// timer deadline. `package` access: for the translator, not for users of the hart.
extension Hart {
    /// The start of the hart's block: x0...x31 (8 bytes each), the sink register (index 32), the
    /// float registers, then the TLBs (``acceleratorTLBOffset``) and the state.
    package var registerBlock: UnsafeMutablePointer<UInt64> { x }

    /// Bytes from the block's start to the data-read TLB; the data-write TLB follows at
    /// ``acceleratorTLBTableBytes``, the fetch TLB at twice that. Each entry is 16 bytes: the
    /// virtual page tag, then the delta that turns a virtual address into a host address.
    package static var acceleratorTLBOffset: Int { tlbByteOffset }
    /// Bytes of one TLB table (``acceleratorTLBEntries`` entries of 16 bytes).
    package static var acceleratorTLBTableBytes: Int { TLB.entries * MemoryLayout<TLBEntry>.stride }
    /// Entries per TLB table; the index of an address is `(address >> 12) & (entries - 1)`.
    package static var acceleratorTLBEntries: Int { TLB.entries }
    /// Bytes from the block's start to ``pc``.
    package static let acceleratorPCOffset = stateByteOffset + MemoryLayout<HartState>.offset(of: \HartState.pc)!
    /// Bytes from the block's start to the instruction count.
    package static let acceleratorInstretOffset = stateByteOffset + MemoryLayout<HartState>.offset(of: \HartState.instret)!
    /// Bytes from the block's start to a `UInt64` that moves whenever the fetch TLB changes
    /// (an entry filled, all flushed): while it stays, every lookup through the fetch TLB gives
    /// what it gave before.
    package static let acceleratorFetchTLBEpochOffset = stateByteOffset + MemoryLayout<HartState>.offset(of: \HartState.fetchTLBEpoch)!
    /// The register index that absorbs writes to x0.
    package static var sinkRegister: Int { Int(Decoder.sink) }

    /// Runs the interpreter until `limit` (as ``run(until:)`` without an accelerator). With
    /// `limit` equal to the instruction count it executes nothing but does the instruction
    /// boundary: stop requests, pending interrupts, WFI.
    package func interpret(until limit: UInt64) -> StopReason {
        execute(limit: limit)
    }

    /// The instruction count at which the machine timer becomes pending (`.max` if never): the
    /// interpreter runs no further than this without looking at interrupts.
    package var timerDeadlineCount: UInt64 { timerDeadline() }

    /// The RAM offset of the instruction at virtual `pc` if the fetch TLB holds its page (no
    /// side effects); nil otherwise, and the interpreter's own fetch then translates it (with
    /// its faults and permission checks) and fills the entry.
    package func cachedFetchRAMOffset(_ pc: UInt64) -> UInt64? {
        let entry = TLB.fetchEntry(x, pc)
        guard entry.tag == pc & ~(GuestMemory.pageSize - 1) else { return nil }
        return pc &+ entry.hostDelta &- UInt64(UInt(bitPattern: memory.bytes))
    }

    /// Marks RAM page `page` as holding translated code, as the interpreter marks the pages it
    /// decodes: stores to it take the slow path from now on (which invalidates translations),
    /// and this hart's write-TLB entries that could bypass that are dropped at once.
    package func markCodePage(_ page: Int) {
        _ = memory.decodedSlots(page: page)
        noteFlagChanges()
    }
}

extension GuestMemory {
    /// The host address of RAM's first byte (sound to read for ``size`` bytes while the memory lives).
    package var hostBytes: UnsafeMutableRawPointer { bytes }

    /// The code version of RAM page `page`: moves whenever a store, DMA or an invalidation
    /// touches bytes of the page recorded with ``noteTranslated(page:from:to:)``. A translation
    /// made at one version is stale at any other.
    package func codeVersion(page: Int) -> UInt32 { codeVersions[page] }

    /// The code versions of all pages (``codeVersion(page:)``), one `UInt32` per page: generated
    /// code reads them there. Sound to read for ``pageCount`` entries while the memory lives.
    package var codeVersionTable: UnsafePointer<UInt32> { UnsafePointer(codeVersions) }

    /// Records that bytes `from..<to` of page `page` (offsets in the page) were translated.
    package func noteTranslated(page: Int, from: Int, to: Int) {
        let range = translatedRanges[page]
        let low = min(Int(range & 0xFFFF), from), high = max(Int(range >> 16), to)
        translatedRanges[page] = UInt32(low) | UInt32(high) << 16
    }

    /// Moves whenever any page's code version moves.
    package var codeGeneration: UInt64 { codeGenerationCounter }

    /// Where ``codeGeneration`` is kept, for generated code to read (sound while the memory lives).
    package var codeGenerationAddress: UnsafePointer<UInt64> { UnsafePointer(codeGenerationCell) }
}

/// One guest instruction as the translator sees it: the interpreter's own decoding (so both
/// engines agree on every field), with a destination of x0 already redirected to the sink.
package struct AcceleratorInstruction {
    package let op: Op
    package let rd: Int
    package let rs1: Int
    package let rs2: Int
    /// Sign-extended immediate; for branches and `jal`, relative to the instruction's pc.
    package let imm: Int64
    /// 2 or 4 bytes.
    package let length: Int

    /// Decodes the instruction whose first parcel is `low` (and, for a 32-bit one, whose upper
    /// parcel is `high`), exactly as the interpreter does.
    package init(low: UInt16, high: UInt16) {
        let d = low & 3 != 3 ? CompressedDecoder.decode(low) : Decoder.decode(UInt32(low) | UInt32(high) << 16)
        op = d.op
        rd = Int(d.rd)
        rs1 = Int(d.rs1)
        rs2 = Int(d.rs2)
        imm = d.imm
        length = Int(d.length)
    }
}
