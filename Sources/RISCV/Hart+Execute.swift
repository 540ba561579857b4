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
        // `ip` points at the decoded slot of the instruction at `pc`: in the page `pageSlots` of
        // the virtual page `codeBase`, or at a `.refetch` slot when the page must be looked up
        // (again). Sequential execution advances both; each page's slots end with two `.refetch`
        // sentinels, so running off the end of a page looks the next one up without a check.
        let refetchSlots = memory.refetchSlots
        let straddleSlot = self.straddleSlot
        var codeBase: UInt64 = 0
        var pageSlots = refetchSlots
        var ip = refetchSlots
        // While `pageSlots` is a real code page: the RAM offset of pc is pc &+ codeDelta.
        var codeDelta: UInt64 = 0


        while true {
            // Instruction boundary with outside effects: stop requests, interrupts, WFI, limit.
            // (No closure captures pc or count, so that they stay in registers in the hot loop.)
            st.pointee.instret = count
            st.pointee.pc = pc
            if st.pointee.stopRequested {
                st.pointee.stopRequested = false
                return .stopRequested
            }
            if effectiveMIP(at: count) & st.pointee.mie != 0 { st.pointee.waiting = false }
            if let cause = interruptToTake(at: count) {
                pc = enterTrap(cause: cause, value: 0, pc: pc)
                ip = refetchSlots
            }
            if st.pointee.waiting { st.pointee.pc = pc; return .waitingForInterrupt }
            if count >= limit { st.pointee.pc = pc; return .limit }
            let deadline = timerDeadline()
            var stop = deadline > count ? min(limit, deadline) : limit

            while count < stop {
                // Operands are read straight from the slot (one byte load each), not unpacked
                // from a copy of the record.
                let d = ip
                let rd = Int(d.pointee.rd), rs1 = Int(d.pointee.rs1), rs2 = Int(d.pointee.rs2)
                let imm = UInt64(bitPattern: d.pointee.imm)

                switch d.pointee.op {
                // MARK: RV64I
                case .lui: x[rd] = imm
                case .cLui: x[rd] = imm; pc &+= 2; ip += 1; count &+= 1; continue
                case .auipc: x[rd] = pc &+ imm
                case .jal:
                    x[rd] = pc &+ 4
                    pc = pc &+ imm
                    ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue
                case .cJal:
                    x[rd] = pc &+ 2
                    pc = pc &+ imm
                    ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue
                case .jalr:
                    let target = (x[rs1] &+ imm) & ~1
                    x[rd] = pc &+ 4
                    pc = target
                    ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue
                case .cJalr:
                    let target = x[rs1] & ~1
                    x[rd] = pc &+ 2
                    pc = target
                    ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue
                case .beq: if x[rs1] == x[rs2] { pc = pc &+ imm; ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue }
                case .bne: if x[rs1] != x[rs2] { pc = pc &+ imm; ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue }
                case .cBeq:
                    if x[rs1] == 0 { pc = pc &+ imm; ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue }
                    pc &+= 2; ip += 1; count &+= 1; continue
                case .cBne:
                    if x[rs1] != 0 { pc = pc &+ imm; ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue }
                    pc &+= 2; ip += 1; count &+= 1; continue
                case .blt: if Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) { pc = pc &+ imm; ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue }
                case .bge: if Int64(bitPattern: x[rs1]) >= Int64(bitPattern: x[rs2]) { pc = pc &+ imm; ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue }
                case .bltu: if x[rs1] < x[rs2] { pc = pc &+ imm; ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue }
                case .bgeu: if x[rs1] >= x[rs2] { pc = pc &+ imm; ip = { let o = pc &- codeBase; return o < GuestMemory.pageSize ? pageSlots + Int(truncatingIfNeeded: o >> 1) : refetchSlots }(); count &+= 1; continue }

                case .lb:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFF {
                        x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int8.self)))
                    } else {
                        guard let v = loadSlow(address: address, op: .lb, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lbu:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFF {
                        x[rd] = UInt64(hostPointer(address &+ entry.hostDelta).load(as: UInt8.self))
                    } else {
                        guard let v = loadSlow(address: address, op: .lbu, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lh:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFE {
                        x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int16.self)))
                    } else {
                        guard let v = loadSlow(address: address, op: .lh, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lhu:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFE {
                        x[rd] = UInt64(hostPointer(address &+ entry.hostDelta).load(as: UInt16.self))
                    } else {
                        guard let v = loadSlow(address: address, op: .lhu, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lw:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int32.self)))
                    } else {
                        guard let v = loadSlow(address: address, op: .lw, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .lwu:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        x[rd] = UInt64(hostPointer(address &+ entry.hostDelta).load(as: UInt32.self))
                    } else {
                        guard let v = loadSlow(address: address, op: .lwu, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .ld:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFF8 {
                        x[rd] = hostPointer(address &+ entry.hostDelta).load(as: UInt64.self)
                    } else {
                        guard let v = loadSlow(address: address, op: .ld, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                case .cLw:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int32.self)))
                    } else {
                        guard let v = loadSlow(address: address, op: .lw, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                    pc &+= 2; ip += 1; count &+= 1; continue
                case .cLd:
                        let address = x[rs1] &+ imm
                    let entry = readTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFF8 {
                        x[rd] = hostPointer(address &+ entry.hostDelta).load(as: UInt64.self)
                    } else {
                        guard let v = loadSlow(address: address, op: .ld, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        x[rd] = v
                    }
                    pc &+= 2; ip += 1; count &+= 1; continue
                case .sb:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFF {
                        hostPointer(address &+ entry.hostDelta).storeBytes(of: UInt8(truncatingIfNeeded: x[rs2]), as: UInt8.self)
                    } else {
                        switch storeSlow(address: address, size: 1, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                case .sh:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFE {
                        hostPointer(address &+ entry.hostDelta).storeBytes(of: UInt16(truncatingIfNeeded: x[rs2]), as: UInt16.self)
                    } else {
                        switch storeSlow(address: address, size: 2, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                case .sw:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        hostPointer(address &+ entry.hostDelta).storeBytes(of: UInt32(truncatingIfNeeded: x[rs2]), as: UInt32.self)
                    } else {
                        switch storeSlow(address: address, size: 4, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                case .sd:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFF8 {
                        hostPointer(address &+ entry.hostDelta).storeBytes(of: x[rs2], as: UInt64.self)
                    } else {
                        switch storeSlow(address: address, size: 8, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                case .cSw:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFFC {
                        hostPointer(address &+ entry.hostDelta).storeBytes(of: UInt32(truncatingIfNeeded: x[rs2]), as: UInt32.self)
                    } else {
                        switch storeSlow(address: address, size: 4, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                    pc &+= 2; ip += 1; count &+= 1; continue
                case .cSd:
                    let address = x[rs1] &+ imm
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~0xFF8 {
                        hostPointer(address &+ entry.hostDelta).storeBytes(of: x[rs2], as: UInt64.self)
                    } else {
                        switch storeSlow(address: address, size: 8, value: x[rs2], pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0   // a device register changed: re-check interrupts
                        }
                    }
                    pc &+= 2; ip += 1; count &+= 1; continue

                case .addi: x[rd] = x[rs1] &+ imm
                case .cAddi: x[rd] = x[rs1] &+ imm; pc &+= 2; ip += 1; count &+= 1; continue
                case .slti: x[rd] = Int64(bitPattern: x[rs1]) < d.pointee.imm ? 1 : 0
                case .sltiu: x[rd] = x[rs1] < imm ? 1 : 0
                case .xori: x[rd] = x[rs1] ^ imm
                case .ori: x[rd] = x[rs1] | imm
                case .andi: x[rd] = x[rs1] & imm
                case .cAndi: x[rd] = x[rs1] & imm; pc &+= 2; ip += 1; count &+= 1; continue
                case .slli: x[rd] = x[rs1] << (imm & 63)
                case .cSlli: x[rd] = x[rs1] << (imm & 63); pc &+= 2; ip += 1; count &+= 1; continue
                case .srli: x[rd] = x[rs1] >> (imm & 63)
                case .cSrli: x[rd] = x[rs1] >> (imm & 63); pc &+= 2; ip += 1; count &+= 1; continue
                case .srai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63))
                case .cSrai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63)); pc &+= 2; ip += 1; count &+= 1; continue
                case .add: x[rd] = x[rs1] &+ x[rs2]
                case .cAdd: x[rd] = x[rs1] &+ x[rs2]; pc &+= 2; ip += 1; count &+= 1; continue
                case .sub: x[rd] = x[rs1] &- x[rs2]
                case .cSub: x[rd] = x[rs1] &- x[rs2]; pc &+= 2; ip += 1; count &+= 1; continue
                case .sll: x[rd] = x[rs1] << (x[rs2] & 63)
                case .slt: x[rd] = Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) ? 1 : 0
                case .sltu: x[rd] = x[rs1] < x[rs2] ? 1 : 0
                case .xor: x[rd] = x[rs1] ^ x[rs2]
                case .cXor: x[rd] = x[rs1] ^ x[rs2]; pc &+= 2; ip += 1; count &+= 1; continue
                case .srl: x[rd] = x[rs1] >> (x[rs2] & 63)
                case .sra: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (x[rs2] & 63))
                case .or: x[rd] = x[rs1] | x[rs2]
                case .cOr: x[rd] = x[rs1] | x[rs2]; pc &+= 2; ip += 1; count &+= 1; continue
                case .and: x[rd] = x[rs1] & x[rs2]
                case .cAnd: x[rd] = x[rs1] & x[rs2]; pc &+= 2; ip += 1; count &+= 1; continue
                case .addiw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ imm))
                case .cAddiw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ imm)); pc &+= 2; ip += 1; count &+= 1; continue
                case .slliw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(imm & 31))
                case .srliw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) >> UInt32(imm & 31))
                case .sraiw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) >> Int32(imm & 31)))
                case .addw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2]))
                case .cAddw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2])); pc &+= 2; ip += 1; count &+= 1; continue
                case .subw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &- x[rs2]))
                case .cSubw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &- x[rs2])); pc &+= 2; ip += 1; count &+= 1; continue
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
                            ip = refetchSlots   // and translations may have been flushed
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
                    ip = refetchSlots
                    continue
                case .ebreak:
                    pc = enterTrap(cause: ExceptionCause.breakpoint.rawValue, value: pc, pc: pc)
                    ip = refetchSlots
                    continue
                case .mret:
                    guard st.pointee.privilege == .machine else {
                        pc = illegal(d.pointee, pc: pc); ip = refetchSlots; continue
                    }
                    pc = returnFromMachineTrap()
                    ip = refetchSlots
                    stop = 0
                    count &+= 1
                    continue
                case .sret:
                    let p = st.pointee.privilege
                    guard p == .machine || (p == .supervisor && st.pointee.mstatus & MStatus.tsr == 0) else {
                        pc = illegal(d.pointee, pc: pc); ip = refetchSlots; continue
                    }
                    pc = returnFromSupervisorTrap()
                    ip = refetchSlots
                    stop = 0
                    count &+= 1
                    continue
                case .wfi:
                    let p = st.pointee.privilege
                    if p == .user || (p == .supervisor && st.pointee.mstatus & MStatus.tw != 0) {
                        pc = illegal(d.pointee, pc: pc); ip = refetchSlots; continue
                    }
                    st.pointee.waiting = true
                    stop = 0
                case .sfenceVMA:
                    let p = st.pointee.privilege
                    if p == .user || (p == .supervisor && st.pointee.mstatus & MStatus.tvm != 0) {
                        pc = illegal(d.pointee, pc: pc); ip = refetchSlots; continue
                    }
                    flushTLB()
                    ip = refetchSlots
                case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
                    switch executeCSR(d.pointee, count: count) {
                    case .illegal:
                        pc = illegal(d.pointee, pc: pc); ip = refetchSlots; continue
                    case .done: break
                    case .changedControl:
                        stop = 0
                        ip = refetchSlots
                    }

                // MARK: A
                case .lrW, .scW, .amoswapW, .amoaddW, .amoxorW, .amoandW, .amoorW, .amominW, .amomaxW, .amominuW, .amomaxuW,
                     .lrD, .scD, .amoswapD, .amoaddD, .amoxorD, .amoandD, .amoorD, .amominD, .amomaxD, .amominuD, .amomaxuD:
                    if let (cause, value) = executeAtomic(d.pointee) {
                        pc = enterTrap(cause: cause.rawValue, value: value, pc: pc)
                        ip = refetchSlots
                        continue
                    }

                // MARK: F and D loads and stores
                case .flw, .fld, .cFld:
                    guard st.pointee.mstatus & MStatus.fs != 0 else { pc = illegal(d.pointee, pc: pc); ip = refetchSlots; continue }
                    let address = x[rs1] &+ imm
                    let size: UInt64 = d.pointee.op == .flw ? 4 : 8
                    let entry = readTLB[TLB.index(address)]
                    var value: UInt64
                    if entry.tag == address & ~(0xFFF & ~(size &- 1)) {
                        let o = hostPointer(address &+ entry.hostDelta)
                        value = size == 8 ? o.load(as: UInt64.self) : UInt64(o.load(as: UInt32.self))
                    } else {
                        guard let v = loadSlow(address: address, op: d.pointee.op == .flw ? .lwu : .ld, pc: pc) else {
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        }
                        value = v
                    }
                    if d.pointee.op == .flw { value |= 0xFFFF_FFFF_0000_0000 }
                    f[rd] = value
                    st.pointee.mstatus |= MStatus.fsDirty
                    if d.pointee.op == .cFld { pc &+= 2; ip += 1; count &+= 1; continue }
                case .fsw, .fsd, .cFsd:
                    guard st.pointee.mstatus & MStatus.fs != 0 else { pc = illegal(d.pointee, pc: pc); ip = refetchSlots; continue }
                    let address = x[rs1] &+ imm
                    let size: UInt64 = d.pointee.op == .fsw ? 4 : 8
                    let value = f[rs2]
                    let entry = writeTLB[TLB.index(address)]
                    if entry.tag == address & ~(0xFFF & ~(size &- 1)) {
                        let o = hostPointer(address &+ entry.hostDelta)
                        if size == 8 {
                            o.storeBytes(of: value, as: UInt64.self)
                        } else {
                            o.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
                        }
                    } else {
                        switch storeSlow(address: address, size: Int(size), value: value, pc: pc) {
                        case .trapped:
                            pc = st.pointee.pc
                            ip = refetchSlots
                            continue
                        case .ram: break
                        case .device: stop = 0
                        }
                    }
                    if d.pointee.op == .cFsd { pc &+= 2; ip += 1; count &+= 1; continue }

                // MARK: Cold: page lookup, decoding, page-straddling instructions
                case .refetch:
                    guard let ramOffset = fetchTranslate(pc, pc: pc) else {
                        pc = st.pointee.pc
                        continue
                    }
                    codeBase = pc & ~(GuestMemory.pageSize - 1)
                    codeDelta = ramOffset &- pc
                    pageSlots = memory.decodedSlots(page: Int(ramOffset / GuestMemory.pageSize))
                    noteFlagChanges()   // a new code page must lose its write-TLB entries
                    ip = pageSlots + Int((pc & (GuestMemory.pageSize - 1)) >> 1)
                    continue
                case .undecoded:
                    let ramOffset = Int(truncatingIfNeeded: pc &+ codeDelta)
                    let low = ram.load(fromByteOffset: ramOffset, as: UInt16.self)
                    if low & 3 != 3 {
                        ip.pointee = CompressedDecoder.decode(low)
                    } else if pc & (GuestMemory.pageSize - 1) <= GuestMemory.pageSize - 4 {
                        ip.pointee = Decoder.decode(ram.loadUnaligned(fromByteOffset: ramOffset, as: UInt32.self))
                    } else {
                        ip.pointee = DecodedInstruction(op: .straddle)
                    }
                    continue
                case .straddle:
                    // A 32-bit instruction whose upper half is on the next page: never cached,
                    // because a store to the next page would not invalidate it. It runs from a
                    // scratch slot followed by `.refetch` sentinels.
                    let low = ram.load(fromByteOffset: Int(truncatingIfNeeded: pc &+ codeDelta), as: UInt16.self)
                    guard let high = fetchUpperHalf(pc) else {
                        pc = st.pointee.pc
                        ip = refetchSlots
                        continue
                    }
                    straddleSlot.pointee = Decoder.decode(UInt32(low) | UInt32(high) << 16)
                    ip = straddleSlot
                    continue
                case .illegal:
                    pc = illegal(d.pointee, pc: pc)
                    ip = refetchSlots
                    continue

                case .faddD, .faddS, .fclassD, .fclassS, .fcvtDL, .fcvtDLU, .fcvtDS, .fcvtDW, .fcvtDWU, .fcvtLD,
                     .fcvtLS, .fcvtLUD, .fcvtLUS, .fcvtSD, .fcvtSL, .fcvtSLU, .fcvtSW, .fcvtSWU, .fcvtWD, .fcvtWS,
                     .fcvtWUD, .fcvtWUS, .fdivD, .fdivS, .feqD, .feqS, .fleD, .fleS, .fltD, .fltS, .fmaddD, .fmaddS,
                     .fmaxD, .fmaxS, .fminD, .fminS, .fmsubD, .fmsubS, .fmulD, .fmulS, .fmvDX, .fmvWX, .fmvXD,
                     .fmvXW, .fnmaddD, .fnmaddS, .fnmsubD, .fnmsubS, .fsgnjD, .fsgnjS, .fsgnjnD, .fsgnjnS, .fsgnjxD,
                     .fsgnjxS, .fsqrtD, .fsqrtS, .fsubD, .fsubS:
                    // The F and D computational instructions (listing them all makes the switch
                    // exhaustive, so the dispatch needs no range check).
                    guard executeFloat(d.pointee) else {
                        pc = illegal(d.pointee, pc: pc)
                        ip = refetchSlots
                        continue
                    }
                }
                pc &+= 4
                ip += 2
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

/// The host address a TLB hit yields (virtual address + the entry's host delta).
///
/// Sound: a TLB entry exists only for a page inside RAM (``Hart/fillTLB``), and the executor uses
/// it only when the access lies entirely inside that page (the tag compare fails for misaligned
/// accesses, which could cross it), so the pointer is inside the live RAM mapping.
@inline(__always) func hostPointer(_ address: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: address)).unsafelyUnwrapped
}
