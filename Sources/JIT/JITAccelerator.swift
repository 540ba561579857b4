import RISCV

/// Runs a hart through translated x86-64 blocks, with exactly the interpreter's results (see
/// docs/jit.md): install one per hart in ``Hart/accelerator``.
///
/// The loop keeps the interpreter's semantics at instruction boundaries by letting the
/// interpreter do them: ``Hart/interpret(until:)`` with the current count handles stop
/// requests, pending interrupts and WFI and runs nothing. Blocks then run until the budget
/// (the limit or the timer deadline, as the interpreter computes it) is used up or a block
/// stops at an instruction it does not handle, which the interpreter runs alone. Nothing a
/// block does (ALU, branches, loads and stores of RAM that hit the TLBs) can change interrupt
/// state, so looking at interrupts only between blocks and after interpreted instructions is
/// exactly what the interpreter does.
public final class JITAccelerator: HartAccelerator {
    /// The code buffer's default size: 64 MiB (emptied and refilled when full).
    public static let defaultCapacity = 64 << 20
    /// How many times by default the loop finds no block at a pc before it translates one there
    /// (see ``init(capacity:translationThreshold:allocationChoices:)``).
    public static let defaultTranslationThreshold = 8
    /// Instructions the interpreter runs for the loop at a pc that is not worth translating yet.
    static let coldStretch: UInt64 = 256
    /// When the register allocation is chosen again from the profile by default (see
    /// ``init(capacity:translationThreshold:allocationChoices:)``): early for small programs,
    /// later for what a large one settles into.
    public static let defaultAllocationChoices: [UInt64] = [1 << 20, 4 << 20, 16 << 20, 64 << 20]

    /// What the loop runs at a pc.
    enum Found: Equatable {
        /// The block's code.
        case block(CodeAddress)
        /// The instruction is one the translator does not handle: the interpreter runs it.
        case interpreted
        /// No block yet and the pc has not been seen often enough: the interpreter runs a stretch.
        case cold
    }

    private let buffer: CodeBuffer
    private var translator = BlockTranslator()
    /// The blocks by RAM offset of their first instruction (read by generated code too).
    /// Allocated in init, deallocated in deinit, used by one thread.
    private let table: BlockTable
    /// The memory whose offsets key the table (one accelerator per hart).
    private weak var memory: GuestMemory?
    /// Where a block's exit to a pc on its own page records its jump's rel32 field (a buffer
    /// offset), -1 otherwise (see ``BlockTranslator``). Sound: allocated in init, deallocated in deinit.
    private let chainRecord: UnsafeMutablePointer<Int>
    /// The block entry (``BlockEntry``) at the start of the buffer, and the host address of the
    /// interpreter stub after it.
    private var entry: BlockEntry.Function
    private var interpreterStub: UInt = 0

    /// See ``init(capacity:translationThreshold:allocationChoices:)``.
    private let translationThreshold: UInt8
    private let allocationChoices: [UInt64]
    /// Per table set: how many times the loop found no valid block there since the last
    /// translation (a heuristic only: pcs of one set share a counter). Allocated in init,
    /// deallocated in deinit.
    private let misses: UnsafeMutablePointer<UInt8>

    /// Counts for ``statistics``.
    private var blocksTranslated = 0, bufferResets = 0, allocationChanges = 0, chainsPatched = 0
    private var guestBytesTranslated = 0, codeBytesEmitted = 0, singleInstructions = 0, coldStretches = 0
    private var translationNanoseconds: UInt64 = 0

    /// A host clock in nanoseconds that times translations, for ``JITStatistics/translationNanoseconds``
    /// only (the owner of the process sets it; nothing the guest sees depends on it).
    public var translationClock: (() -> UInt64)?

    /// What the accelerator has done so far.
    public var statistics: JITStatistics {
        var s = JITStatistics()
        s.blocksTranslated = blocksTranslated
        s.guestBytesTranslated = guestBytesTranslated
        s.codeBytesEmitted = codeBytesEmitted
        s.codeBytesInUse = buffer.count
        s.codeBufferCapacity = buffer.capacity
        s.tableBytes = BlockTable.entries * BlockTable.entryBytes + BlockTable.sets + JumpTargetCache.slots * JumpTargetCache.slotBytes
        s.bufferResets = bufferResets
        s.allocationChanges = allocationChanges
        s.chainsPatched = chainsPatched
        s.singleInstructions = singleInstructions
        s.coldStretches = coldStretches
        s.translationNanoseconds = translationClock == nil ? nil : translationNanoseconds
        return s
    }

    /// The register uses of the code that runs, while the allocation may still change.
    private let profile = RegisterUseProfile()
    /// The last block each indirect jump of generated code ran (emptied with the code).
    private let jumpTargets = JumpTargetCache()
    /// The index of the next allocation choice (their count: profiling is over), and the
    /// instruction count at which profiling started (nil: at the next instruction boundary).
    private var nextChoice = 0
    private var profileStart: UInt64?

    /// Reserves `capacity` bytes of code buffer. Throws where the host allows no executable
    /// memory (the caller then keeps the interpreter).
    ///
    /// A block is translated at a pc only after the loop has found none there
    /// `translationThreshold` times (0: at once); until then the interpreter runs a stretch of
    /// instructions from that pc. Code that runs a few times (most of a boot) costs less to
    /// interpret than to translate. The results are the same either way: the interpreter is
    /// the reference.
    ///
    /// The guest registers kept in host registers (``GuestRegisterAllocation``) are chosen
    /// again from the registers the running code used most when the instruction count, counted
    /// from the first run (and again from a refill of the code buffer), reaches each of
    /// `allocationChoices`; a new choice empties the code buffer. Blocks count their executions
    /// for the choice until the last. Also a choice of speed only.
    public init(capacity: Int = JITAccelerator.defaultCapacity,
                translationThreshold: Int = JITAccelerator.defaultTranslationThreshold,
                allocationChoices: [UInt64] = JITAccelerator.defaultAllocationChoices) throws(CodeBufferError) {
        #if !(arch(x86_64) && os(Linux))
        throw CodeBufferError.executableMemoryUnavailable(reasons: ["the translator emits x86-64 code for Linux (System V calls)"])
        #else
        let buffer = try CodeBuffer(capacity: capacity)
        self.buffer = buffer
        table = BlockTable()
        self.translationThreshold = UInt8(clamping: translationThreshold)
        self.allocationChoices = allocationChoices.sorted()
        misses = .allocate(capacity: BlockTable.sets)
        misses.initialize(repeating: 0, count: BlockTable.sets)
        chainRecord = .allocate(capacity: 1)
        chainRecord.initialize(to: -1)
        (entry, interpreterStub) = JITAccelerator.installEntry(in: buffer, allocation: translator.allocation)
        #endif
    }

    deinit {
        table.deallocate()
        misses.deallocate()
        chainRecord.deallocate()
    }

    public func run(_ hart: Hart, until limit: UInt64) -> Hart.StopReason {
        if memory == nil {
            memory = hart.memory
            translator.lookup = BlockTranslator.Lookup(
                table: UInt(bitPattern: table.base), codeVersions: UInt(bitPattern: hart.memory.codeVersionTable),
                ramBase: UInt(bitPattern: hart.memory.hostBytes),
                codeGeneration: UInt(bitPattern: hart.memory.codeGenerationAddress), jumpTargets: jumpTargets)
        }
        precondition(memory === hart.memory, "a JITAccelerator serves one hart (its table is keyed by that hart's RAM)")
        let registers = hart.registerBlock
        var boundaryDone = false
        while true {
            // The instruction boundary, done by the interpreter (runs nothing).
            if !boundaryDone {
                let reason = hart.interpret(until: hart.instructionCount)
                if reason != .limit { return reason }
            }
            boundaryDone = false
            let count = hart.instructionCount
            if count >= limit { return .limit }
            if nextChoice < allocationChoices.count {
                let start = profileStart ?? count
                profileStart = start
                if count &- start >= allocationChoices[nextChoice] { chooseAllocation() }
            }
            let deadline = hart.timerDeadlineCount
            let stop = deadline > count ? min(limit, deadline) : limit

            blocks: while true {
                let now = hart.instructionCount
                // The exit that led here, if it may jump straight to the next block.
                let site = chainRecord.pointee
                chainRecord.pointee = -1
                if now >= stop { break blocks }
                let pc = hart.pc
                let resets = bufferResets
                let next = hart.cachedFetchRAMOffset(pc).map { block(at: pc, ramOffset: $0, hart) } ?? .interpreted
                guard case .block(let found) = next else {
                    // A fetch the TLB does not hold yet (the interpreter translates it, with its
                    // faults), an instruction the translator does not handle, or code not run
                    // often enough yet to translate.
                    if next == .cold { coldStretches &+= 1 } else { singleInstructions &+= 1 }
                    let reason = hart.interpret(until: next == .cold ? min(stop, now &+ JITAccelerator.coldStretch) : now &+ 1)
                    if reason != .limit { return reason }
                    boundaryDone = true
                    break blocks
                }
                if site >= 0 && resets == bufferResets {
                    // The exit and this block are on one page, looked up under one translation
                    // context: entered only through a checked lookup of the first, the jump is
                    // valid as long as the page's code version is (see docs/jit.md).
                    patch(site, to: found)
                }
                switch entry(registers, Int(clamping: stop &- now), buffer.hostAddress(of: found)) {
                case BlockExit.next.rawValue:
                    continue blocks
                case BlockExit.interpret.rawValue:
                    let after = hart.instructionCount
                    if after >= stop { break blocks }
                    singleInstructions &+= 1
                    let reason = hart.interpret(until: after &+ 1)
                    if reason != .limit { return reason }
                    boundaryDone = true
                    break blocks
                default:
                    // The budget ends inside this block: the interpreter runs the rest of it.
                    let reason = hart.interpret(until: stop)
                    if reason != .limit { return reason }
                    boundaryDone = true
                    break blocks
                }
            }
        }
    }

    /// What runs at virtual `pc` at `ramOffset`: the block there, translated now if the table
    /// has none valid and the pc was seen often enough (see ``init(capacity:translationThreshold:allocationChoices:)``).
    private func block(at pc: UInt64, ramOffset: UInt64, _ hart: Hart) -> Found {
        let memory = hart.memory
        let page = Int(truncatingIfNeeded: ramOffset >> 12)
        let version = memory.codeVersion(page: page)
        if let code = table.code(ramOffset: ramOffset, pc: pc, version: version) {
            return code == interpreterStub ? .interpreted : .block(codeAddress(ofHost: code))
        }
        let heat = misses + BlockTable.set(ramOffset: ramOffset)
        if heat.pointee < translationThreshold {
            heat.pointee += 1
            return .cold
        }
        heat.pointee = 0
        // Stores to the page must take the slow path (which invalidates) before we read it.
        hart.markCodePage(page)
        let pageOffset = Int(truncatingIfNeeded: ramOffset & 0xFFF)
        let pageStart = UnsafeRawPointer(memory.hostBytes + page * BlockTranslator.pageSize)
        var code: CodeAddress?
        var end = pageOffset + 2
        let started = translationClock?()
        if let (address, endOffset) = install(page: pageStart, pageOffset: pageOffset, pc: pc) {
            code = address
            end = endOffset
            blocksTranslated += 1
            guestBytesTranslated += endOffset - pageOffset
            codeBytesEmitted += buffer.count - address.offset   // (the block was appended last)
        }
        if let started, let ended = translationClock?() { translationNanoseconds &+= ended &- started }
        memory.noteTranslated(page: page, from: pageOffset, to: end)
        // (A reset in install emptied the table and put the stub back at its address.)
        table.record(ramOffset: ramOffset, pc: pc, version: version, code: code.map { buffer.hostAddress(of: $0) } ?? interpreterStub)
        return code.map { .block($0) } ?? .interpreted
    }

    /// The buffer address of code at host address `host`.
    private func codeAddress(ofHost host: UInt) -> CodeAddress {
        CodeAddress(offset: Int(host - buffer.hostAddress(of: CodeAddress(offset: 0))))
    }

    /// Translates the block and copies it into the buffer (emptying it, and the table, when
    /// full); nil if its first instruction is the interpreter's.
    private func install(page: UnsafeRawPointer, pageOffset: Int, pc: UInt64) -> (CodeAddress, Int)? {
        for attempt in 0..<2 {
            // `append` places code at the next multiple of 16: the block knows its address.
            let base = (buffer.count + 15) & -16
            let counter = nextChoice < allocationChoices.count ? profile.nextCounter : nil
            guard let code = translator.translate(page: page, pageOffset: pageOffset, pc: pc, base: base,
                                                  chainRecord: UInt(bitPattern: chainRecord), counter: counter) else { return nil }
            do {
                let address = try buffer.append(code.bytes)
                precondition(address.offset == base, "the code buffer placed a block elsewhere than at the next multiple of 16")
                if counter != nil { profile.record(uses: code.registerUses) }
                return (address, code.endOffset)
            } catch {
                guard case .full = error, attempt == 0 else { preconditionFailure("the code buffer refused a block: \(error)") }
                resetCode()
                // What runs from now on may be other code: profile it again.
                nextChoice = 0
                profileStart = nil
            }
        }
        return nil
    }

    /// Makes the jump whose rel32 field is at buffer offset `site` go to `target`.
    private func patch(_ site: Int, to target: CodeAddress) {
        do {
            try buffer.patchRel32(at: CodeAddress(offset: site), toJumpTo: target)
            chainsPatched += 1
        } catch {
            preconditionFailure("the code buffer refused a patch: \(error)")
        }
    }

    /// Chooses the register allocation from the profile (the next allocation choice):
    /// the registers the code that ran used most, if they cover a sixteenth more uses than the
    /// current allocation (a new allocation empties the code buffer, which costs translations:
    /// on a Linux boot, a few percent for every change; a register left in memory costs most
    /// where the code stores it and soon reads it back). The last choice empties the buffer in
    /// any case if a few blocks count their executions (a small program's loops), so that the
    /// code that runs from then on does not; with many (a boot), translating them all again
    /// would cost more than their counters.
    private func chooseAllocation() {
        nextChoice += 1
        let uses = profile.weightedUses()
        let chosen = GuestRegisterAllocation.chosen(byUses: uses)
        let current = translator.allocation.coverage(of: uses)
        if chosen.coverage(of: uses) > current + current / 16 {
            translator.allocation = chosen
            allocationChanges += 1
            resetCode()
        } else if nextChoice == allocationChoices.count && profile.blocks > 0 && profile.blocks <= Self.blocksWorthRetranslating {
            resetCode()
        }
    }

    /// The most profiled blocks the last allocation choice translates again to drop their counters.
    static let blocksWorthRetranslating = 1024

    /// Forgets every translation (none is running: blocks return before any is installed); the
    /// blocks translated from now on use ``BlockTranslator/allocation``.
    private func resetCode() {
        buffer.reset()
        (entry, interpreterStub) = JITAccelerator.installEntry(in: buffer, allocation: translator.allocation)
        table.clear()
        profile.clear()
        jumpTargets.clear()
        bufferResets += 1
    }

    /// Puts the block entry (for blocks translated under `allocation`) and the interpreter stub
    /// at the start of the (empty) buffer.
    private static func installEntry(in buffer: CodeBuffer, allocation: GuestRegisterAllocation) -> (BlockEntry.Function, stub: UInt) {
        precondition(buffer.count == 0, "the block entry goes at the start of an empty code buffer")
        do {
            let entry = buffer.function(at: try buffer.append(BlockEntry.code(allocation: allocation)), as: BlockEntry.Function.self)
            let stub = buffer.hostAddress(of: try buffer.append(BlockEntry.interpreterStub()))
            return (entry, stub)
        } catch {
            preconditionFailure("a code buffer of \(buffer.capacity) bytes has no room for the block entry: \(error)")
        }
    }
}
