/// The interpreter loop.
///
/// Shape (see SWIFT-NOTES.md and docs/design.md): hot state in locals and raw pointers,
/// instructions decoded once into 16-byte records cached per RAM page, one `switch` over the
/// operation. The instruction counter is exact: the inner loop runs until the count reaches the
/// next point where something outside the instruction stream may happen (the caller's limit or the
/// timer deadline), and any instruction that can change interrupt state ends the inner loop so
/// interrupts are checked before the next instruction, exactly as a single-stepping hart would.
extension Hart {
    /// Executes until `instructionCount == limit`, a stop request, or WFI with nothing pending.
    public func run(until limit: UInt64) -> StopReason {
        if let accelerator { return accelerator.run(self, until: limit) }
        return execute(limit: limit)
    }

    /// Executes exactly one instruction (or takes one trap/interrupt); for tracing and tests.
    public func step() -> StopReason {
        execute(limit: state.pointee.instret &+ 1)
    }

    @inline(never)
    func execute(limit: UInt64) -> StopReason {
        // Locals for everything the hot loop touches. Each pointer is owned by `self` or
        // `memory`, which outlive this call; nothing here is shared with another thread.
        let st = state
        let x = self.x
        let f = x + Hart.floatOffset
        let ram = memory.bytes
        // Read entries, then write entries at `TLB.entries` further (one base pointer).
        let tlb = self.tlb.storage
        syncTranslationContext()

        // The pc is not kept: it is a function of `ip`. `ip` points at the decoded slot of the
        // instruction to execute, and pc = codeBase + 2 * (ip - pageSlots) (one slot per 2-byte
        // parcel). While running a code page, `pageSlots` are its slots and `codeBase` its
        // virtual address; execution runs off its end onto two `.refetch` sentinels. When the page
        // must be looked up (again), `pageSlots` is the page of `.refetch` slots and `codeBase`
        // the pc itself. An instruction straddling two pages, or the first half of a fused pair
        // that must run alone, runs from the hart's scratch page (all `.refetch` but one slot).
        let refetchSlots = memory.refetchSlots
        let scratch = self.scratchSlots
        var codeBase = st.pointee.pc
        var pageSlots = refetchSlots
        var ip = refetchSlots
        let context = FastLoopContext(x: x, refetchSlots: refetchSlots, scratch: scratch,
                                      decodedPages: memory.decodedPages,
                                      ramBase: UInt64(UInt(bitPattern: ram)), stopSlot: stopSlot)

        while true {
            // Instruction boundary with outside effects: stop requests, interrupts, WFI, limit.
            // (No closure captures the loop's state, so that it stays in registers.)
            let count = st.pointee.instret
            var pc = pcAt(ip, pageSlots, codeBase)
            st.pointee.pc = pc
            if st.pointee.stopRequested {
                st.pointee.stopRequested = false
                return .stopRequested
            }
            if effectiveMIP(at: count) & st.pointee.mie != 0 { st.pointee.waiting = false }
            if let cause = interruptToTake(at: count) {
                pc = enterTrap(cause: cause, value: 0, pc: pc)
                st.pointee.pc = pc
                codeBase = pc; pageSlots = refetchSlots; ip = refetchSlots
            }
            if st.pointee.waiting { return .waitingForInterrupt }
            if count >= limit { return .limit }
            let deadline = timerDeadline()
            // The inner loop retires at most `stop - count` instructions: `left` is how many more
            // may retire, and the count of retired instructions is always `stop - left`. Every
            // instruction that retires decrements `left`; one that traps, or a cold case such as
            // a page lookup, does not.
            let budget = min((deadline > count ? min(limit, deadline) : limit) &- count, UInt64(Int.max))
            var stop = count &+ budget
            var left = Int(truncatingIfNeeded: budget)

            while left > 0 {
                // The fast loop runs all it can; what it stops at is done here, one instruction.
                var point = ExecutionPoint(ip: ip, pageSlots: pageSlots, codeBase: codeBase, left: left)
                // The cheap check runs while more than 4096 instructions may retire, the exact one
                // the rest. (When the first stops at an instruction for the slow step, the second
                // stops there too, after one dispatch.)
                Hart.runFast(CheckAtJumps.self, &point, context)
                Hart.runFast(CheckEveryInstruction.self, &point, context)
                ip = point.ip; pageSlots = point.pageSlots; codeBase = point.codeBase; left = point.left
                guard left > 0 else { break }

                let d = ip
                let rd = Int(d.pointee.rd), rs1 = Int(d.pointee.rs1)
                let imm = UInt64(bitPattern: d.pointee.imm)
                // The count of the instructions before this one, for what the slow step reaches
                // outside the hart: a device reading guest time (the CLINT's mtime) sees the time
                // at this instruction, not at the start of the inner loop, which depends on where
                // runs stopped (an engine that runs this instruction alone must read the same).
                st.pointee.instret = stop &- UInt64(truncatingIfNeeded: left)

                switch d.pointee.op {
                // MARK: Loads and stores whose TLB lookup missed
                case .lb, .lbu, .lh, .lhu, .lw, .lwu, .ld, .cLw, .cLd:
                    let op: Op
                    switch d.pointee.op { case .cLw: op = .lw; case .cLd: op = .ld; case let o: op = o }
                    guard let v = loadSlow(address: x[rs1] &+ imm, op: op, pc: pcAt(d, pageSlots, codeBase)) else {
                        codeBase = st.pointee.pc; pageSlots = refetchSlots; ip = refetchSlots; continue
                    }
                    x[rd] = v
                    if d.pointee.op == .cLw || d.pointee.op == .cLd { ip = d + 1; left &-= 1; continue }
                case .sb, .sh, .sw, .sd, .cSw, .cSd:
                    let size: Int
                    switch d.pointee.op { case .sb: size = 1; case .sh: size = 2; case .sw, .cSw: size = 4; default: size = 8 }
                    switch storeSlow(address: x[rs1] &+ imm, size: size, value: x[Int(d.pointee.rs2)], pc: pcAt(d, pageSlots, codeBase)) {
                    case .trapped:
                        codeBase = st.pointee.pc; pageSlots = refetchSlots; ip = refetchSlots; continue
                    case .ram: break
                    case .device: stop = stop &- UInt64(truncatingIfNeeded: left) &+ 1; left = 1   // a device register changed: re-check interrupts
                    }
                    if d.pointee.op == .cSw || d.pointee.op == .cSd { ip = d + 1; left &-= 1; continue }

                // MARK: System
                // An instruction that traps does not retire: it points `ip` at the `.refetch` page
                // for the handler's pc (`codeBase`) and continues. `stop = stop - left + 1` with
                // `left = 1` (then the common decrement) or `left = 0` (then `continue`) retires
                // the current instruction and ends the inner loop, so interrupts are checked.
                case .ecall:
                    let pc = pcAt(d, pageSlots, codeBase)
                    if st.pointee.privilege == .supervisor && st.pointee.medeleg & (1 << 9) == 0,
                       let handler = supervisorCallHandler {
                        // The execution environment (SBI) is served by the host: the call
                        // completes like an instruction, and may change interrupt state.
                        st.pointee.pc = pc
                        st.pointee.instret = stop &- UInt64(truncatingIfNeeded: left)
                        if handler(self) {
                            stop = stop &- UInt64(truncatingIfNeeded: left) &+ 1; left = 0   // interrupt state may have changed
                            codeBase = pc &+ 4; pageSlots = refetchSlots; ip = refetchSlots   // and translations may have been flushed
                            continue
                        }
                    }
                    let cause: ExceptionCause
                    switch st.pointee.privilege {
                    case .user: cause = .environmentCallFromU
                    case .supervisor: cause = .environmentCallFromS
                    case .machine: cause = .environmentCallFromM
                    }
                    codeBase = enterTrap(cause: cause.rawValue, value: 0, pc: pc); pageSlots = refetchSlots; ip = refetchSlots; continue
                case .ebreak:
                    let pc = pcAt(d, pageSlots, codeBase)
                    codeBase = enterTrap(cause: ExceptionCause.breakpoint.rawValue, value: pc, pc: pc); pageSlots = refetchSlots; ip = refetchSlots; continue
                case .mret:
                    guard st.pointee.privilege == .machine else {
                        codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue
                    }
                    codeBase = returnFromMachineTrap(); pageSlots = refetchSlots; ip = refetchSlots
                    stop = stop &- UInt64(truncatingIfNeeded: left) &+ 1; left = 0; continue
                case .sret:
                    let p = st.pointee.privilege
                    guard p == .machine || (p == .supervisor && st.pointee.mstatus & MStatus.tsr == 0) else {
                        codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue
                    }
                    codeBase = returnFromSupervisorTrap(); pageSlots = refetchSlots; ip = refetchSlots
                    stop = stop &- UInt64(truncatingIfNeeded: left) &+ 1; left = 0; continue
                case .wfi:
                    let p = st.pointee.privilege
                    if p == .user || (p == .supervisor && st.pointee.mstatus & MStatus.tw != 0) {
                        codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue
                    }
                    st.pointee.waiting = true
                    stop = stop &- UInt64(truncatingIfNeeded: left) &+ 1; left = 1
                case .sfenceVMA:
                    let p = st.pointee.privilege
                    if p == .user || (p == .supervisor && st.pointee.mstatus & MStatus.tvm != 0) {
                        codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue
                    }
                    flushTLB()
                    codeBase = pcAt(d, pageSlots, codeBase) &+ 4; pageSlots = refetchSlots; ip = refetchSlots
                    left &-= 1; continue
                case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
                    switch executeCSR(d.pointee, count: stop &- UInt64(truncatingIfNeeded: left)) {
                    case .illegal:
                        codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue
                    case .done: break
                    case .changedControl:
                        stop = stop &- UInt64(truncatingIfNeeded: left) &+ 1; left = 0
                        codeBase = pcAt(d, pageSlots, codeBase) &+ 4; pageSlots = refetchSlots; ip = refetchSlots
                        continue
                    }

                // MARK: A
                case .lrW, .scW, .amoswapW, .amoaddW, .amoxorW, .amoandW, .amoorW, .amominW, .amomaxW, .amominuW, .amomaxuW,
                     .lrD, .scD, .amoswapD, .amoaddD, .amoxorD, .amoandD, .amoorD, .amominD, .amomaxD, .amominuD, .amomaxuD:
                    if let (cause, value) = executeAtomic(d.pointee) {
                        codeBase = enterTrap(cause: cause.rawValue, value: value, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots
                        continue
                    }

                // MARK: F and D loads and stores
                case .flw, .fld, .cFld:
                    guard st.pointee.mstatus & MStatus.fs != 0 else {
                        codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue
                    }
                    let address = x[rs1] &+ imm
                    let size: UInt64 = d.pointee.op == .flw ? 4 : 8
                    let entry = tlb[TLB.index(address)]
                    var value: UInt64
                    if entry.tag == address & ~(0xFFF & ~(size &- 1)) {
                        let o = hostPointer(address &+ entry.hostDelta)
                        value = size == 8 ? o.load(as: UInt64.self) : UInt64(o.load(as: UInt32.self))
                    } else {
                        guard let v = loadSlow(address: address, op: d.pointee.op == .flw ? .lwu : .ld, pc: pcAt(d, pageSlots, codeBase)) else {
                            codeBase = st.pointee.pc; pageSlots = refetchSlots; ip = refetchSlots; continue
                        }
                        value = v
                    }
                    if d.pointee.op == .flw { value |= 0xFFFF_FFFF_0000_0000 }
                    f[rd] = value
                    st.pointee.mstatus |= MStatus.fsDirty
                    if d.pointee.op == .cFld { ip = d + 1; left &-= 1; continue }
                case .fsw, .fsd, .cFsd:
                    guard st.pointee.mstatus & MStatus.fs != 0 else {
                        codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue
                    }
                    let address = x[rs1] &+ imm
                    let size: UInt64 = d.pointee.op == .fsw ? 4 : 8
                    let value = f[Int(d.pointee.rs2)]
                    let entry = tlb[TLB.entries + TLB.index(address)]
                    if entry.tag == address & ~(0xFFF & ~(size &- 1)) {
                        let o = hostPointer(address &+ entry.hostDelta)
                        if size == 8 {
                            o.storeBytes(of: value, as: UInt64.self)
                        } else {
                            o.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
                        }
                    } else {
                        switch storeSlow(address: address, size: Int(size), value: value, pc: pcAt(d, pageSlots, codeBase)) {
                        case .trapped:
                            codeBase = st.pointee.pc; pageSlots = refetchSlots; ip = refetchSlots; continue
                        case .ram: break
                        case .device: stop = stop &- UInt64(truncatingIfNeeded: left) &+ 1; left = 1
                        }
                    }
                    if d.pointee.op == .cFsd { ip = d + 1; left &-= 1; continue }

                // MARK: Cold: page lookup, decoding, page-straddling instructions (none retires)
                case .refetch:
                    let pc = pcAt(d, pageSlots, codeBase)
                    // The scratch slot last used (if any) goes back to `.refetch`: only a page
                    // lookup leads off the scratch page, so it is never stale when used.
                    scratch[Int(truncatingIfNeeded: st.pointee.scratchIndex)] = DecodedInstruction(op: .refetch)
                    guard let ramOffset = fetchTranslate(pc, pc: pc) else {
                        codeBase = st.pointee.pc; pageSlots = refetchSlots; ip = refetchSlots
                        continue
                    }
                    codeBase = pc & ~(GuestMemory.pageSize - 1)
                    st.pointee.codeDelta = ramOffset &- pc
                    pageSlots = memory.decodedSlots(page: Int(ramOffset / GuestMemory.pageSize))
                    noteFlagChanges()   // a new code page must lose its write-TLB entries
                    ip = pageSlots + Int((pc & (GuestMemory.pageSize - 1)) >> 1)
                    continue
                case .undecoded:
                    let pc = pcAt(d, pageSlots, codeBase)
                    d.pointee = Hart.decodeSlot(ram: ram, ramOffset: pc &+ st.pointee.codeDelta, pageOffset: pc & (GuestMemory.pageSize - 1), fuse: true)
                    continue   // and run it
                case .straddle:
                    // A 32-bit instruction whose upper half is on the next page: never cached,
                    // because a store to the next page would not invalidate it. It runs from the
                    // scratch page, at its own offset, between `.refetch` slots.
                    let pc = pcAt(d, pageSlots, codeBase)
                    let low = ram.load(fromByteOffset: Int(truncatingIfNeeded: pc &+ st.pointee.codeDelta), as: UInt16.self)
                    guard let high = fetchUpperHalf(pc) else {
                        codeBase = st.pointee.pc; pageSlots = refetchSlots; ip = refetchSlots
                        continue
                    }
                    let index = Int(truncatingIfNeeded: (pc & (GuestMemory.pageSize - 1)) >> 1)
                    scratch[index] = Hart.relocate(Decoder.decode(UInt32(low) | UInt32(high) << 16), pageOffset: pc & (GuestMemory.pageSize - 1))
                    st.pointee.scratchIndex = UInt16(index)
                    pageSlots = scratch
                    ip = scratch + index
                    continue
                case .illegal:
                    codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue

                case .faddD, .faddS, .fclassD, .fclassS, .fcvtDL, .fcvtDLU, .fcvtDS, .fcvtDW, .fcvtDWU, .fcvtLD,
                     .fcvtLS, .fcvtLUD, .fcvtLUS, .fcvtSD, .fcvtSL, .fcvtSLU, .fcvtSW, .fcvtSWU, .fcvtWD, .fcvtWS,
                     .fcvtWUD, .fcvtWUS, .fdivD, .fdivS, .feqD, .feqS, .fleD, .fleS, .fltD, .fltS, .fmaddD, .fmaddS,
                     .fmaxD, .fmaxS, .fminD, .fminS, .fmsubD, .fmsubS, .fmulD, .fmulS, .fmvDX, .fmvWX, .fmvXD,
                     .fmvXW, .fnmaddD, .fnmaddS, .fnmsubD, .fnmsubS, .fsgnjD, .fsgnjS, .fsgnjnD, .fsgnjnS, .fsgnjxD,
                     .fsgnjxS, .fsqrtD, .fsqrtS, .fsubD, .fsubS:
                    // The F and D computational instructions (listing them all makes the switch
                    // exhaustive, so the dispatch needs no range check).
                    guard executeFloat(d.pointee) else {
                        codeBase = illegal(d.pointee, pc: pcAt(d, pageSlots, codeBase)); pageSlots = refetchSlots; ip = refetchSlots; continue
                    }

                case .addBranchEq, .addBranchLt, .addwBranchEq, .addwBranchLt, .andBranchEq, .andBranchLt,
                     .subBranchEq, .subBranchLt, .slliwBranchEq, .slliwBranchLt, .srliBranchEq, .srliBranchLt,
                     .lwBranchEq, .lwBranchLt, .ldBranchEq, .ldBranchLt, .lbuBranchEq, .lbuBranchLt,
                     .skipEqAdd2, .skipEqAdd3, .skipEqAdd4, .skipEqXor2, .skipEqXor3, .skipEqXor4,
                     .skipLtAdd2, .skipLtAdd3, .skipLtAdd4, .skipLtXor2, .skipLtXor3, .skipLtXor4,
                     .srliSlliw3, .srliSlliw4, .slliAddw2, .slliAddw3, .slliAddw4,
                     .ldLd2, .ldLd3, .ldLd4, .lwLw2, .lwLw3, .lwLw4, .sdSd2, .sdSd3, .sdSd4:
                    // A fused pair that cannot run as one (only one instruction may retire, or an
                    // access missed the TLB): its first instruction runs alone, decoded again from
                    // memory into the scratch page at its own offset; the second follows in its
                    // own slot after the page lookup.
                    let pc = pcAt(d, pageSlots, codeBase)
                    let index = Int(truncatingIfNeeded: (pc & (GuestMemory.pageSize - 1)) >> 1)
                    scratch[index] = Hart.decodeSlot(ram: ram, ramOffset: pc &+ st.pointee.codeDelta,
                                                     pageOffset: pc & (GuestMemory.pageSize - 1), fuse: false)
                    st.pointee.scratchIndex = UInt16(index)
                    pageSlots = scratch
                    ip = scratch + index
                    continue

                default:
                    // The fast loop runs every other operation and stops only at these.
                    preconditionFailure("the fast loop stopped at \(d.pointee.op), which it runs")
                }
                // The instruction retired and did not jump: the next slot is that of a 4-byte
                // instruction (compressed ones step one slot and continue, as do jumps).
                ip = d + 2
                left &-= 1
            }
            st.pointee.instret = stop &- UInt64(truncatingIfNeeded: left)
        }
    }

    /// Decodes the instruction at a RAM offset for the slot of page offset `pageOffset`: a
    /// compressed or 32-bit instruction, or `.straddle` for a 32-bit instruction whose upper half
    /// lies on the next page. With `fuse`, an instruction that forms a fused pair with the next
    /// one (in the same page) gives the pair's slot (see ``Fusion``).
    @inline(never)
    static func decodeSlot(ram: UnsafeMutableRawPointer, ramOffset: UInt64, pageOffset: UInt64, fuse: Bool) -> DecodedInstruction {
        let single = decodeOne(ram: ram, ramOffset: ramOffset, pageOffset: pageOffset)
        guard fuse, single.op != .straddle else { return single }
        let next = pageOffset &+ UInt64(single.length)
        guard next <= GuestMemory.pageSize - 2 else { return single }
        let low = ram.load(fromByteOffset: Int(truncatingIfNeeded: ramOffset &+ UInt64(single.length)), as: UInt16.self)
        let end = next &+ (low & 3 == 3 ? 4 : 2)
        guard end <= GuestMemory.pageSize else { return single }
        let second = decodeOne(ram: ram, ramOffset: ramOffset &+ UInt64(single.length), pageOffset: next)
        guard let pair = Fusion.fuse(single, second, end: end) else { return single }
        // A branch that skips one instruction is better fused with it (no host branch at all)
        // than with the instruction before it. (This looks at a third instruction, which a store
        // does not make this slot decode again; either choice runs the same instructions.)
        if Fusion.branch(second) != nil && UInt64(bitPattern: second.imm) <= GuestMemory.pageSize && end <= GuestMemory.pageSize - 2 {
            let third = decodeOne(ram: ram, ramOffset: ramOffset &+ (end &- pageOffset), pageOffset: end)
            if third.op != .straddle && UInt64(bitPattern: second.imm) == end &+ UInt64(third.length),
               Fusion.fuse(second, third, end: end &+ UInt64(third.length)) != nil {
                return single
            }
        }
        return pair
    }

    static func decodeOne(ram: UnsafeMutableRawPointer, ramOffset: UInt64, pageOffset: UInt64) -> DecodedInstruction {
        let offset = Int(truncatingIfNeeded: ramOffset)
        let low = ram.load(fromByteOffset: offset, as: UInt16.self)
        if low & 3 != 3 { return relocate(CompressedDecoder.decode(low), pageOffset: pageOffset) }
        if pageOffset > GuestMemory.pageSize - 4 { return DecodedInstruction(op: .straddle) }
        return relocate(Decoder.decode(ram.loadUnaligned(fromByteOffset: offset, as: UInt32.self)), pageOffset: pageOffset)
    }

    /// Makes pc-relative immediates relative to the start of the instruction's page: the
    /// executor keeps no pc, only the page's virtual address (`codeBase`). A branch or `jal`
    /// then finds its target's offset in the page without arithmetic, and `auipc` adds the
    /// immediate to the page address. The page offset is a property of the slot, so this is
    /// valid wherever the physical page is mapped.
    @inline(__always)
    static func relocate(_ d: DecodedInstruction, pageOffset: UInt64) -> DecodedInstruction {
        switch d.op {
        case .auipc, .jal, .cJal, .beq, .bne, .blt, .bge, .bltu, .bgeu, .cBeq, .cBne:
            var r = d
            r.imm = d.imm &+ Int64(bitPattern: pageOffset)
            return r
        default:
            return d
        }
    }

    /// Raises an illegal-instruction trap for `d` at `pc`, with the encoding in tval.
    @inline(never)
    func illegal(_ d: DecodedInstruction, pc: UInt64) -> UInt64 {
        let bits: UInt64
        if d.op == .illegal {
            bits = UInt64(bitPattern: d.imm)
        } else {
            bits = UInt64(instructionBits(at: pc) ?? 0)
        }
        return enterTrap(cause: ExceptionCause.illegalInstruction.rawValue, value: bits, pc: pc)
    }
}

/// The pc of the instruction in `slot`, where `pageSlots` are the slots of the page (or the
/// `.refetch` page) whose first parcel is at `codeBase` (one slot per 2-byte parcel).
@inline(__always) func pcAt(_ slot: UnsafeMutablePointer<DecodedInstruction>, _ pageSlots: UnsafeMutablePointer<DecodedInstruction>, _ codeBase: UInt64) -> UInt64 {
    // 16-byte slots for 2-byte parcels: the byte distance between slots is 8 times the pc's.
    codeBase &+ UInt64(UInt(bitPattern: slot) &- UInt(bitPattern: pageSlots)) &>> 3
}

@inline(__always) func signExtend32(_ v: UInt32) -> UInt64 {
    UInt64(bitPattern: Int64(Int32(bitPattern: v)))
}

@inline(__always) func mulhsu(_ a: UInt64, _ b: UInt64) -> UInt64 {
    // signed(a) * unsigned(b): the unsigned product, minus b << 64 when a is negative.
    var high = a.multipliedFullWidth(by: b).high
    if Int64(bitPattern: a) < 0 { high &-= b }
    return high
}
