/// The interpreter loop.
///
/// Shape (see SWIFT-NOTES.md): hot state in locals and raw pointers, instructions decoded once
/// into 16-byte records cached per RAM page, one `switch` over the operation. The instruction
/// counter is exact: the inner loop runs until the count reaches the next point where something
/// outside the instruction stream may happen (the caller's limit or the timer deadline), and any
/// instruction that can change interrupt state ends the inner loop so interrupts are checked
/// before the next instruction, exactly as a single-stepping hart would.
extension Hart {
    /// Executes until `instructionCount == limit`, a stop request, or WFI with nothing pending.
    public func run(until limit: UInt64) -> StopReason {
        execute(limit: limit)
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
        let readTLB = tlb.read
        let writeTLB = tlb.write
        syncTranslationContext()

        var pc = st.pointee.pc
        var count = st.pointee.instret
        // The code page the pc is in: while pc - codeBase < 4096, `slots` holds the decoded
        // instructions of that page, or the refetch page when it must be looked up again.
        let refetchSlots = memory.refetchSlots
        var codeBase: UInt64 = pc & ~(GuestMemory.pageSize - 1)
        var slots = refetchSlots
        // While `slots` is a real code page: the RAM offset of pc is pc &+ codeDelta.
        var codeDelta: UInt64 = 0

        @inline(__always) func finish(_ reason: StopReason) -> StopReason {
            st.pointee.pc = pc
            st.pointee.instret = count
            return reason
        }

        while true {
            // Instruction boundary with outside effects: stop requests, interrupts, WFI, limit.
            st.pointee.instret = count
            if st.pointee.stopRequested {
                st.pointee.stopRequested = false
                return finish(.stopRequested)
            }
            if effectiveMIP(at: count) & st.pointee.mie != 0 { st.pointee.waiting = false }
            if let cause = interruptToTake(at: count) {
                pc = enterTrap(cause: cause, value: 0, pc: pc)
                slots = refetchSlots
            }
            if st.pointee.waiting { return finish(.waitingForInterrupt) }
            if count >= limit { return finish(.limit) }
            let deadline = timerDeadline()
            var stop = deadline > count ? min(limit, deadline) : limit

            while count < stop {
                var offset = pc &- codeBase
                if offset >= GuestMemory.pageSize {
                    codeBase = pc & ~(GuestMemory.pageSize - 1)
                    slots = refetchSlots
                    offset = pc &- codeBase
                }
                var d = slots[Int(offset >> 1)]
                if d.op.rawValue <= Op.refetch.rawValue && d.op != .illegal {
                    // Cold: look the page up, decode a new slot, or fetch across a page boundary.
                    if d.op == .refetch {
                        guard let ramOffset = fetchTranslate(pc, pc: pc) else {
                            pc = st.pointee.pc
                            continue
                        }
                        codeDelta = ramOffset &- pc
                        slots = memory.decodedSlots(page: Int(ramOffset / GuestMemory.pageSize))
                        noteFlagChanges()   // a new code page must lose its write-TLB entries
                        d = slots[Int(offset >> 1)]
                    }
                    if d.op == .undecoded {
                        let ramOffset = Int(truncatingIfNeeded: pc &+ codeDelta)
                        let low = ram.load(fromByteOffset: ramOffset, as: UInt16.self)
                        if low & 3 != 3 {
                            d = CompressedDecoder.decode(low)
                        } else if offset <= GuestMemory.pageSize - 4 {
                            d = Decoder.decode(ram.loadUnaligned(fromByteOffset: ramOffset, as: UInt32.self))
                        } else {
                            d = DecodedInstruction(op: .straddle)
                        }
                        slots[Int(offset >> 1)] = d
                    }
                    if d.op == .straddle {
                        // A 32-bit instruction whose upper half is on the next page: never cached,
                        // because a store to the next page would not invalidate it.
                        let low = ram.load(fromByteOffset: Int(truncatingIfNeeded: pc &+ codeDelta), as: UInt16.self)
                        guard let high = fetchUpperHalf(pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        d = Decoder.decode(UInt32(low) | UInt32(high) << 16)
                    }
                }

                let rd = Int(d.rd), rs1 = Int(d.rs1), rs2 = Int(d.rs2)
                let imm = UInt64(bitPattern: d.imm)
                var npc = pc &+ 4

                switch d.op {
                // MARK: RV64I
                case .lui: x[rd] = imm
                case .cLui: x[rd] = imm; npc = pc &+ 2
                case .auipc: x[rd] = pc &+ imm
                case .jal:
                    x[rd] = npc
                    npc = pc &+ imm
                case .cJal:
                    x[rd] = pc &+ 2
                    npc = pc &+ imm
                case .jalr:
                    let target = (x[rs1] &+ imm) & ~1
                    x[rd] = npc
                    npc = target
                case .cJalr:
                    let target = x[rs1] & ~1
                    x[rd] = pc &+ 2
                    npc = target
                case .beq: if x[rs1] == x[rs2] { npc = pc &+ imm }
                case .bne: if x[rs1] != x[rs2] { npc = pc &+ imm }
                case .cBeq: npc = x[rs1] == 0 ? pc &+ imm : pc &+ 2
                case .cBne: npc = x[rs1] != 0 ? pc &+ imm : pc &+ 2
                case .blt: if Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) { npc = pc &+ imm }
                case .bge: if Int64(bitPattern: x[rs1]) >= Int64(bitPattern: x[rs2]) { npc = pc &+ imm }
                case .bltu: if x[rs1] < x[rs2] { npc = pc &+ imm }
                case .bgeu: if x[rs1] >= x[rs2] { npc = pc &+ imm }

                case .lb:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFF {
                        x[rd] = UInt64(bitPattern: Int64(ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: Int8.self)))
                    } else {
                        guard let v = loadSlow(address: address, op: .lb, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lbu:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFF {
                        x[rd] = UInt64(ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt8.self))
                    } else {
                        guard let v = loadSlow(address: address, op: .lbu, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lh:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFE {
                        x[rd] = UInt64(bitPattern: Int64(ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: Int16.self)))
                    } else {
                        guard let v = loadSlow(address: address, op: .lh, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lhu:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFE {
                        x[rd] = UInt64(ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt16.self))
                    } else {
                        guard let v = loadSlow(address: address, op: .lhu, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lw:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        x[rd] = UInt64(bitPattern: Int64(ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: Int32.self)))
                    } else {
                        guard let v = loadSlow(address: address, op: .lw, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lwu:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        x[rd] = UInt64(ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt32.self))
                    } else {
                        guard let v = loadSlow(address: address, op: .lwu, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .ld:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFF8 {
                        x[rd] = ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt64.self)
                    } else {
                        guard let v = loadSlow(address: address, op: .ld, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .cLw:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        x[rd] = UInt64(bitPattern: Int64(ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: Int32.self)))
                    } else {
                        guard let v = loadSlow(address: address, op: .lw, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                    npc = pc &+ 2
                case .cLd:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFF8 {
                        x[rd] = ram.load(fromByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt64.self)
                    } else {
                        guard let v = loadSlow(address: address, op: .ld, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                    npc = pc &+ 2
                case .sb:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFF {
                        ram.storeBytes(of: UInt8(truncatingIfNeeded: x[rs2]), toByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt8.self)
                    } else {
                        switch storeSlow(address: address, size: 1, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                case .sh:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFE {
                        ram.storeBytes(of: UInt16(truncatingIfNeeded: x[rs2]), toByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt16.self)
                    } else {
                        switch storeSlow(address: address, size: 2, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                case .sw:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        ram.storeBytes(of: UInt32(truncatingIfNeeded: x[rs2]), toByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt32.self)
                    } else {
                        switch storeSlow(address: address, size: 4, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                case .sd:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFF8 {
                        ram.storeBytes(of: x[rs2], toByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt64.self)
                    } else {
                        switch storeSlow(address: address, size: 8, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                case .cSw:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        ram.storeBytes(of: UInt32(truncatingIfNeeded: x[rs2]), toByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt32.self)
                    } else {
                        switch storeSlow(address: address, size: 4, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                    npc = pc &+ 2
                case .cSd:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFF8 {
                        ram.storeBytes(of: x[rs2], toByteOffset: Int(truncatingIfNeeded: address &+ entry.ramDelta), as: UInt64.self)
                    } else {
                        switch storeSlow(address: address, size: 8, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                    npc = pc &+ 2

                case .addi: x[rd] = x[rs1] &+ imm
                case .cAddi: x[rd] = x[rs1] &+ imm; npc = pc &+ 2
                case .slti: x[rd] = Int64(bitPattern: x[rs1]) < d.imm ? 1 : 0
                case .sltiu: x[rd] = x[rs1] < imm ? 1 : 0
                case .xori: x[rd] = x[rs1] ^ imm
                case .ori: x[rd] = x[rs1] | imm
                case .andi: x[rd] = x[rs1] & imm
                case .cAndi: x[rd] = x[rs1] & imm; npc = pc &+ 2
                case .slli: x[rd] = x[rs1] << (imm & 63)
                case .cSlli: x[rd] = x[rs1] << (imm & 63); npc = pc &+ 2
                case .srli: x[rd] = x[rs1] >> (imm & 63)
                case .cSrli: x[rd] = x[rs1] >> (imm & 63); npc = pc &+ 2
                case .srai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63))
                case .cSrai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63)); npc = pc &+ 2
                case .add: x[rd] = x[rs1] &+ x[rs2]
                case .cAdd: x[rd] = x[rs1] &+ x[rs2]; npc = pc &+ 2
                case .sub: x[rd] = x[rs1] &- x[rs2]
                case .cSub: x[rd] = x[rs1] &- x[rs2]; npc = pc &+ 2
                case .sll: x[rd] = x[rs1] << (x[rs2] & 63)
                case .slt: x[rd] = Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) ? 1 : 0
                case .sltu: x[rd] = x[rs1] < x[rs2] ? 1 : 0
                case .xor: x[rd] = x[rs1] ^ x[rs2]
                case .cXor: x[rd] = x[rs1] ^ x[rs2]; npc = pc &+ 2
                case .srl: x[rd] = x[rs1] >> (x[rs2] & 63)
                case .sra: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (x[rs2] & 63))
                case .or: x[rd] = x[rs1] | x[rs2]
                case .cOr: x[rd] = x[rs1] | x[rs2]; npc = pc &+ 2
                case .and: x[rd] = x[rs1] & x[rs2]
                case .cAnd: x[rd] = x[rs1] & x[rs2]; npc = pc &+ 2
                case .addiw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ imm))
                case .cAddiw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ imm)); npc = pc &+ 2
                case .slliw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(imm & 31))
                case .srliw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) >> UInt32(imm & 31))
                case .sraiw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) >> Int32(imm & 31)))
                case .addw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2]))
                case .cAddw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2])); npc = pc &+ 2
                case .subw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &- x[rs2]))
                case .cSubw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &- x[rs2])); npc = pc &+ 2
                case .sllw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(x[rs2] & 31))
                case .srlw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) >> UInt32(x[rs2] & 31))
                case .sraw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) >> Int32(x[rs2] & 31)))

                // MARK: M
                case .mul: x[rd] = x[rs1] &* x[rs2]
                case .mulh:
                    x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]).multipliedFullWidth(by: Int64(bitPattern: x[rs2])).high)
                case .mulhu: x[rd] = x[rs1].multipliedFullWidth(by: x[rs2]).high
                case .mulhsu: x[rd] = mulhsu(x[rs1], x[rs2])
                case .div:
                    let a = Int64(bitPattern: x[rs1]), b = Int64(bitPattern: x[rs2])
                    x[rd] = b == 0 ? ~0 : (b == -1 ? UInt64(bitPattern: 0 &- a) : UInt64(bitPattern: a / b))
                case .divu: x[rd] = x[rs2] == 0 ? ~0 : x[rs1] / x[rs2]
                case .rem:
                    let a = Int64(bitPattern: x[rs1]), b = Int64(bitPattern: x[rs2])
                    x[rd] = b == 0 ? x[rs1] : (b == -1 ? 0 : UInt64(bitPattern: a % b))
                case .remu: x[rd] = x[rs2] == 0 ? x[rs1] : x[rs1] % x[rs2]
                case .mulw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &* x[rs2]))
                case .divw:
                    let a = Int32(truncatingIfNeeded: x[rs1]), b = Int32(truncatingIfNeeded: x[rs2])
                    let q: Int32 = b == 0 ? -1 : (b == -1 ? 0 &- a : a / b)
                    x[rd] = UInt64(bitPattern: Int64(q))
                case .divuw:
                    let a = UInt32(truncatingIfNeeded: x[rs1]), b = UInt32(truncatingIfNeeded: x[rs2])
                    x[rd] = signExtend32(b == 0 ? ~0 : a / b)
                case .remw:
                    let a = Int32(truncatingIfNeeded: x[rs1]), b = Int32(truncatingIfNeeded: x[rs2])
                    let r: Int32 = b == 0 ? a : (b == -1 ? 0 : a % b)
                    x[rd] = UInt64(bitPattern: Int64(r))
                case .remuw:
                    let a = UInt32(truncatingIfNeeded: x[rs1]), b = UInt32(truncatingIfNeeded: x[rs2])
                    x[rd] = signExtend32(b == 0 ? a : a % b)

                // MARK: System
                case .fence: break
                case .fenceI: break   // stores already invalidate the decoded instructions they overwrite
                case .ecall:
                    if st.pointee.privilege == .supervisor && st.pointee.medeleg & (1 << 9) == 0,
                       let handler = supervisorCallHandler {
                        // The execution environment (SBI) is served by the host: the call
                        // completes like an instruction, and may change interrupt state.
                        st.pointee.pc = pc
                        st.pointee.instret = count
                        if handler(self) {
                            stop = 0               // interrupt state may have changed
                            slots = refetchSlots   // and translations may have been flushed
                            break
                        }
                    }
                    let cause: ExceptionCause
                    switch st.pointee.privilege {
                    case .user: cause = .environmentCallFromU
                    case .supervisor: cause = .environmentCallFromS
                    case .machine: cause = .environmentCallFromM
                    }
                    pc = enterTrap(cause: cause.rawValue, value: 0, pc: pc)
                    slots = refetchSlots
                    continue
                case .ebreak:
                    pc = enterTrap(cause: ExceptionCause.breakpoint.rawValue, value: pc, pc: pc)
                    slots = refetchSlots
                    continue
                case .mret:
                    guard st.pointee.privilege == .machine else {
                        pc = illegal(d, pc: pc); slots = refetchSlots; continue
                    }
                    npc = returnFromMachineTrap()
                    slots = refetchSlots
                    stop = 0
                case .sret:
                    let p = st.pointee.privilege
                    guard p == .machine || (p == .supervisor && st.pointee.mstatus & MStatus.tsr == 0) else {
                        pc = illegal(d, pc: pc); slots = refetchSlots; continue
                    }
                    npc = returnFromSupervisorTrap()
                    slots = refetchSlots
                    stop = 0
                case .wfi:
                    let p = st.pointee.privilege
                    if p == .user || (p == .supervisor && st.pointee.mstatus & MStatus.tw != 0) {
                        pc = illegal(d, pc: pc); slots = refetchSlots; continue
                    }
                    st.pointee.waiting = true
                    stop = 0
                case .sfenceVMA:
                    let p = st.pointee.privilege
                    if p == .user || (p == .supervisor && st.pointee.mstatus & MStatus.tvm != 0) {
                        pc = illegal(d, pc: pc); slots = refetchSlots; continue
                    }
                    flushTLB()
                    slots = refetchSlots
                case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
                    switch executeCSR(d, count: count) {
                    case .illegal:
                        pc = illegal(d, pc: pc); slots = refetchSlots; continue
                    case .done: break
                    case .changedControl:
                        stop = 0
                        slots = refetchSlots
                    }

                // MARK: A
                case .lrW, .scW, .amoswapW, .amoaddW, .amoxorW, .amoandW, .amoorW, .amominW, .amomaxW, .amominuW, .amomaxuW,
                     .lrD, .scD, .amoswapD, .amoaddD, .amoxorD, .amoandD, .amoorD, .amominD, .amomaxD, .amominuD, .amomaxuD:
                    if let (cause, value) = executeAtomic(d) {
                        pc = enterTrap(cause: cause.rawValue, value: value, pc: pc)
                        slots = refetchSlots
                        continue
                    }

                // MARK: F and D loads and stores
                case .flw, .fld, .cFld:
                    guard st.pointee.mstatus & MStatus.fs != 0 else { pc = illegal(d, pc: pc); slots = refetchSlots; continue }
                    if d.op == .cFld { npc = pc &+ 2 }
                    let address = x[rs1] &+ imm
                    let size: UInt64 = d.op == .flw ? 4 : 8
                    let entry = readTLB[TLB.index(address)]
                    var value: UInt64
                    if entry.tag == address & ~(0xFFF & ~(size &- 1)) {
                        let o = Int(truncatingIfNeeded: address &+ entry.ramDelta)
                        value = size == 8 ? ram.load(fromByteOffset: o, as: UInt64.self) : UInt64(ram.load(fromByteOffset: o, as: UInt32.self))
                    } else {
                        guard let v = loadSlow(address: address, op: d.op == .flw ? .lwu : .ld, pc: pc) else {
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        }
                        value = v
                    }
                    if d.op == .flw { value |= 0xFFFF_FFFF_0000_0000 }
                    f[rd] = value
                    st.pointee.mstatus |= MStatus.fsDirty
                case .fsw, .fsd, .cFsd:
                    guard st.pointee.mstatus & MStatus.fs != 0 else { pc = illegal(d, pc: pc); slots = refetchSlots; continue }
                    if d.op == .cFsd { npc = pc &+ 2 }
                    let address = x[rs1] &+ imm
                    let size: UInt64 = d.op == .fsw ? 4 : 8
                    let value = f[rs2]
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~(0xFFF & ~(size &- 1)) {
                        let o = Int(truncatingIfNeeded: address &+ entry.ramDelta)
                        if size == 8 {
                            ram.storeBytes(of: value, toByteOffset: o, as: UInt64.self)
                        } else {
                            ram.storeBytes(of: UInt32(truncatingIfNeeded: value), toByteOffset: o, as: UInt32.self)
                        }
                    } else {
                        switch storeSlow(address: address, size: Int(size), value: value, pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            slots = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0
                        }
                    }

                case .undecoded, .straddle, .illegal, .refetch:
                    pc = illegal(d, pc: pc)
                    slots = refetchSlots
                    continue

                default:
                    // Remaining F and D computational instructions.
                    guard executeFloat(d) else {
                        pc = illegal(d, pc: pc)
                        slots = refetchSlots
                        continue
                    }
                }
                pc = npc
                count &+= 1
            }
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

@inline(__always) func signExtend32(_ v: UInt32) -> UInt64 {
    UInt64(bitPattern: Int64(Int32(bitPattern: v)))
}

@inline(__always) func mulhsu(_ a: UInt64, _ b: UInt64) -> UInt64 {
    // signed(a) * unsigned(b): the unsigned product, minus b << 64 when a is negative.
    var high = a.multipliedFullWidth(by: b).high
    if Int64(bitPattern: a) < 0 { high &-= b }
    return high
}
