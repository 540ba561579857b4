/// The interpreter's hot loop: the instructions that need no call.
///
/// `Hart.execute` alternates between this loop and a slow step for one instruction. The loop
/// runs the common instructions (integer ALU, M, loads and stores that hit the TLBs, branches and
/// jumps, page changes whose fetch translation and decoded slots already exist) and returns, with
/// `ip` at the instruction, as soon as it meets anything else: an operation that needs the rest of
/// the hart (system instructions, CSRs, atomics, floating point, traps), a TLB miss, a slot to
/// decode. Because nothing in it calls a function, no value has to survive a call, and the loop
/// state, the register file and the TLBs stay in host registers.
///
/// Every handler ends on its own: it moves `ip`, counts what retired, checks the budget if its
/// ``BudgetCheck`` says so (without a branch: a stop points `ip` at a slot that leaves the loop,
/// see ``LoopExit``), and `continue`s. None falls out of the `switch` into a shared tail and none
/// ends in a conditional branch, so that LLVM copies the dispatch (the next slot's operands, the
/// jump through the table) into each handler (see `replicatedDispatch` in Package.swift): one
/// indirect jump per handler, which the host predicts far better than one jump shared by all.

/// Where execution stands: the loop state `Hart.execute` and `Hart.runFast` hand to each other.
@usableFromInline
struct ExecutionPoint {
    /// The slot of the next instruction.
    var ip: UnsafeMutablePointer<DecodedInstruction>
    /// The slots of the page being run (or the `.refetch` page, or the scratch page).
    var pageSlots: UnsafeMutablePointer<DecodedInstruction>
    /// The virtual address of `pageSlots[0]`: pc = codeBase + 2 * (ip - pageSlots).
    var codeBase: UInt64
    /// How many more instructions may retire before the inner loop must stop.
    var left: Int
}

/// What the fast loop reads and never changes. Every pointer is owned by the hart or its memory,
/// which outlive the call. (The TLBs and the hart's state are found from `x`: see
/// ``Hart/tlbByteOffset``.)
@usableFromInline
struct FastLoopContext {
    /// The start of the hart's block: registers, then TLBs, then state.
    let x: UnsafeMutablePointer<UInt64>
    let refetchSlots: UnsafeMutablePointer<DecodedInstruction>
    let scratch: UnsafeMutablePointer<DecodedInstruction>
    let decodedPages: UnsafeMutablePointer<UnsafeMutablePointer<DecodedInstruction>?>
    /// The host address of RAM's first byte.
    let ramBase: UInt64
    /// A slot of ``Op/undecoded`` that `ip` points at to leave the loop (see ``LoopExit``).
    let stopSlot: UnsafeMutablePointer<DecodedInstruction>
}

extension Hart {
    /// Runs instructions from `point` until `left` reaches zero or the instruction at `ip` needs
    /// the slow step. Every instruction run here retires.
    ///
    /// `B` says when the remaining budget is checked (see ``BudgetCheck``); the two checks are
    /// two specialisations of this one loop.
    @inline(never)
    static func runFast<B: BudgetCheck>(_ check: B.Type, _ point: inout ExecutionPoint, _ context: FastLoopContext) {
        let x = context.x
        // Sound: the hart's block holds the state at this offset from `x`, bound to its type
        // (Hart.init). Derived here, not passed, so that each access is `x` plus a constant and
        // no register holds the pointer. (The TLBs likewise: ``TLB/readEntry(_:_:)``.)
        let state = UnsafeMutableRawPointer(x).advanced(by: Hart.stateByteOffset).assumingMemoryBound(to: HartState.self)
        // Needed only to leave the page: kept in the state, not in a register.
        state.pointee.loopRefetchSlots = context.refetchSlots
        var ip = point.ip
        var pageSlots = point.pageSlots
        // `codeBase` is needed only by auipc, jumps and page changes: it is kept in memory (no
        // register is free for it in the loop).
        state.pointee.loopCodeBase = point.codeBase
        var left = point.left

        // Nothing to run (a budget this check does not handle): the point is left as it is.
        guard left > B.floor else { return }
        let exit = LoopExit(slot: context.stopSlot, state: state)
        loop: repeat {
            // Operands are read straight from the slot (one byte load each), not unpacked
            // from a copy of the record. (Read here, before the jump to the handler: they are
            // then loaded while the jump is predicted.)
            let d = ip
            let rd = Int(d.pointee.rd), rs1 = Int(d.pointee.rs1), rs2 = Int(d.pointee.rs2)
            let imm = UInt64(bitPattern: d.pointee.imm)

            switch d.pointee.op {
            // MARK: RV64I
            // Branch and jal immediates are relative to the page (see `Hart.relocate`): the
            // target's offset in this page, or beyond it. A jump sets `ip` and continues.
            case .lui: x[rd] = imm; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cLui: x[rd] = imm; ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .auipc: x[rd] = state.pointee.loopCodeBase &+ imm; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .jal:
                x[rd] = pcAt(d, pageSlots, state.pointee.loopCodeBase) &+ 4
                Hart.jump(imm, &ip, &pageSlots, state)
                left &-= 1; ip = B.afterJump(ip, left, exit); continue
            case .cJal:
                x[rd] = pcAt(d, pageSlots, state.pointee.loopCodeBase) &+ 2
                Hart.jump(imm, &ip, &pageSlots, state)
                left &-= 1; ip = B.afterJump(ip, left, exit); continue
            case .jalr:
                let target = (x[rs1] &+ imm) & ~1
                x[rd] = pcAt(d, pageSlots, state.pointee.loopCodeBase) &+ 4
                let o = target &- state.pointee.loopCodeBase
                Hart.jump(o, &ip, &pageSlots, state)
                left &-= 1; ip = B.afterJump(ip, left, exit); continue
            case .cJalr:
                let target = x[rs1] & ~1
                x[rd] = pcAt(d, pageSlots, state.pointee.loopCodeBase) &+ 2
                let o = target &- state.pointee.loopCodeBase
                Hart.jump(o, &ip, &pageSlots, state)
                left &-= 1; ip = B.afterJump(ip, left, exit); continue
            case .cJr:
                let o = (x[rs1] & ~1) &- state.pointee.loopCodeBase
                Hart.jump(o, &ip, &pageSlots, state)
                left &-= 1; ip = B.afterJump(ip, left, exit); continue
            case .beq:
                if x[rs1] == x[rs2] {
                    Hart.jump(imm, &ip, &pageSlots, state)
                    left &-= 1; ip = B.afterJump(ip, left, exit); continue
                }
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .bne:
                if x[rs1] != x[rs2] {
                    Hart.jump(imm, &ip, &pageSlots, state)
                    left &-= 1; ip = B.afterJump(ip, left, exit); continue
                }
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .blt:
                if Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) {
                    Hart.jump(imm, &ip, &pageSlots, state)
                    left &-= 1; ip = B.afterJump(ip, left, exit); continue
                }
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .bge:
                if Int64(bitPattern: x[rs1]) >= Int64(bitPattern: x[rs2]) {
                    Hart.jump(imm, &ip, &pageSlots, state)
                    left &-= 1; ip = B.afterJump(ip, left, exit); continue
                }
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .bltu:
                if x[rs1] < x[rs2] {
                    Hart.jump(imm, &ip, &pageSlots, state)
                    left &-= 1; ip = B.afterJump(ip, left, exit); continue
                }
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .bgeu:
                if x[rs1] >= x[rs2] {
                    Hart.jump(imm, &ip, &pageSlots, state)
                    left &-= 1; ip = B.afterJump(ip, left, exit); continue
                }
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cBeq:
                if x[rs1] == 0 {
                    Hart.jump(imm, &ip, &pageSlots, state)
                } else {
                    ip = d + 1
                }
                left &-= 1; ip = B.afterJump(ip, left, exit); continue
            case .cBne:
                if x[rs1] != 0 {
                    Hart.jump(imm, &ip, &pageSlots, state)
                } else {
                    ip = d + 1
                }
                left &-= 1; ip = B.afterJump(ip, left, exit); continue

            // MARK: Loads and stores that hit the TLBs (a miss leaves for the slow step)
            case .lb:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFF else { break loop }
                x[rd] = hostLoad8Signed(address &+ entry.hostDelta)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .lbu:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFF else { break loop }
                x[rd] = hostLoad8(address &+ entry.hostDelta)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .lh:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFE else { break loop }
                x[rd] = hostLoad16Signed(address &+ entry.hostDelta)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .lhu:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFE else { break loop }
                x[rd] = hostLoad16(address &+ entry.hostDelta)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .lw:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = hostLoad32Signed(address &+ entry.hostDelta)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .lwu:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = hostLoad32(address &+ entry.hostDelta)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .ld:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFF8 else { break loop }
                x[rd] = hostLoad64(address &+ entry.hostDelta)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cLw:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = hostLoad32Signed(address &+ entry.hostDelta)
                ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cLd:
                let address = x[rs1] &+ imm
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFF8 else { break loop }
                x[rd] = hostLoad64(address &+ entry.hostDelta)
                ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sb:
                let address = x[rs1] &+ imm
                let entry = TLB.writeEntry(x, address)
                guard entry.tag == address & ~0xFFF else { break loop }
                hostStore8(address &+ entry.hostDelta, x[rs2])
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sh:
                let address = x[rs1] &+ imm
                let entry = TLB.writeEntry(x, address)
                guard entry.tag == address & ~0xFFE else { break loop }
                hostStore16(address &+ entry.hostDelta, x[rs2])
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sw:
                let address = x[rs1] &+ imm
                let entry = TLB.writeEntry(x, address)
                guard entry.tag == address & ~0xFFC else { break loop }
                hostStore32(address &+ entry.hostDelta, x[rs2])
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sd:
                let address = x[rs1] &+ imm
                let entry = TLB.writeEntry(x, address)
                guard entry.tag == address & ~0xFF8 else { break loop }
                hostStore64(address &+ entry.hostDelta, x[rs2])
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cSw:
                let address = x[rs1] &+ imm
                let entry = TLB.writeEntry(x, address)
                guard entry.tag == address & ~0xFFC else { break loop }
                hostStore32(address &+ entry.hostDelta, x[rs2])
                ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cSd:
                let address = x[rs1] &+ imm
                let entry = TLB.writeEntry(x, address)
                guard entry.tag == address & ~0xFF8 else { break loop }
                hostStore64(address &+ entry.hostDelta, x[rs2])
                ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue

            case .addi: x[rd] = x[rs1] &+ imm; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cAddi: x[rd] = x[rs1] &+ imm; ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .slti: x[rd] = Int64(bitPattern: x[rs1]) < d.pointee.imm ? 1 : 0; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sltiu: x[rd] = x[rs1] < imm ? 1 : 0; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .xori: x[rd] = x[rs1] ^ imm; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .ori: x[rd] = x[rs1] | imm; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .andi: x[rd] = x[rs1] & imm; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cAndi: x[rd] = x[rs1] & imm; ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .slli: x[rd] = x[rs1] << (imm & 63); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cSlli: x[rd] = x[rs1] << (imm & 63); ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .srli: x[rd] = x[rs1] >> (imm & 63); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cSrli: x[rd] = x[rs1] >> (imm & 63); ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .srai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63)); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cSrai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63)); ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .add: x[rd] = x[rs1] &+ x[rs2]; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cAdd: x[rd] = x[rs1] &+ x[rs2]; ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sub: x[rd] = x[rs1] &- x[rs2]; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cSub: x[rd] = x[rs1] &- x[rs2]; ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sll: x[rd] = x[rs1] << (x[rs2] & 63); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .slt: x[rd] = Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) ? 1 : 0; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sltu: x[rd] = x[rs1] < x[rs2] ? 1 : 0; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .xor: x[rd] = x[rs1] ^ x[rs2]; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cXor: x[rd] = x[rs1] ^ x[rs2]; ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .srl: x[rd] = x[rs1] >> (x[rs2] & 63); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sra: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (x[rs2] & 63)); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .or: x[rd] = x[rs1] | x[rs2]; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cOr: x[rd] = x[rs1] | x[rs2]; ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .and: x[rd] = x[rs1] & x[rs2]; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cAnd: x[rd] = x[rs1] & x[rs2]; ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .addiw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ imm)); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cAddiw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ imm)); ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .slliw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(imm & 31)); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .srliw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) >> UInt32(imm & 31)); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sraiw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) >> Int32(imm & 31))); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .addw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2])); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cAddw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2])); ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .subw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &- x[rs2])); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .cSubw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &- x[rs2])); ip = d + 1; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sllw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(x[rs2] & 31)); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .srlw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) >> UInt32(x[rs2] & 31)); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .sraw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) >> Int32(x[rs2] & 31))); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue

            // MARK: M
            case .mul: x[rd] = x[rs1] &* x[rs2]; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .mulh:
                x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]).multipliedFullWidth(by: Int64(bitPattern: x[rs2])).high)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .mulhu: x[rd] = x[rs1].multipliedFullWidth(by: x[rs2]).high; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .mulhsu: x[rd] = mulhsu(x[rs1], x[rs2]); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .div:
                let a = Int64(bitPattern: x[rs1]), b = Int64(bitPattern: x[rs2])
                x[rd] = b == 0 ? ~0 : (b == -1 ? UInt64(bitPattern: 0 &- a) : UInt64(bitPattern: a / b))
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .divu: x[rd] = x[rs2] == 0 ? ~0 : x[rs1] / x[rs2]; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .rem:
                let a = Int64(bitPattern: x[rs1]), b = Int64(bitPattern: x[rs2])
                x[rd] = b == 0 ? x[rs1] : (b == -1 ? 0 : UInt64(bitPattern: a % b))
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .remu: x[rd] = x[rs2] == 0 ? x[rs1] : x[rs1] % x[rs2]; ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .mulw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &* x[rs2])); ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .divw:
                let a = Int32(truncatingIfNeeded: x[rs1]), b = Int32(truncatingIfNeeded: x[rs2])
                let q: Int32 = b == 0 ? -1 : (b == -1 ? 0 &- a : a / b)
                x[rd] = UInt64(bitPattern: Int64(q))
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .divuw:
                let a = UInt32(truncatingIfNeeded: x[rs1]), b = UInt32(truncatingIfNeeded: x[rs2])
                x[rd] = signExtend32(b == 0 ? ~0 : a / b)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .remw:
                let a = Int32(truncatingIfNeeded: x[rs1]), b = Int32(truncatingIfNeeded: x[rs2])
                let r: Int32 = b == 0 ? a : (b == -1 ? 0 : a % b)
                x[rd] = UInt64(bitPattern: Int64(r))
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .remuw:
                let a = UInt32(truncatingIfNeeded: x[rs1]), b = UInt32(truncatingIfNeeded: x[rs2])
                x[rd] = signExtend32(b == 0 ? a : a % b)
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue

            case .fence: ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue
            case .fenceI:   // stores already invalidate the decoded instructions they overwrite
                ip = d + 2; left &-= 1; ip = B.afterStraight(ip, left, exit); continue

            // MARK: Fused pairs (see Fusion.swift); fewer than two to retire leaves for the slow step
            // (checked only under the exact budget check, see `BudgetCheck.pairFits`)
            // An instruction, then a conditional branch on what may be its result.
            case .addBranchEq:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] &+ x[rs2] &+ low
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .addBranchLt:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] &+ x[rs2] &+ low
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .addwBranchEq:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2] &+ low))
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .addwBranchLt:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2] &+ low))
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .andBranchEq:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] & (x[rs2] | low)
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .andBranchLt:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] & (x[rs2] | low)
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .subBranchEq:
                guard B.pairFits(left) else { break loop }
                x[rd] = x[rs1] &- x[rs2]
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .subBranchLt:
                guard B.pairFits(left) else { break loop }
                x[rd] = x[rs1] &- x[rs2]
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .slliwBranchEq:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(low & 31))
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .slliwBranchLt:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(low & 31))
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .srliBranchEq:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] >> (low & 63)
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .srliBranchLt:
                guard B.pairFits(left) else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] >> (low & 63)
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .lwBranchEq:
                guard B.pairFits(left) else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = hostLoad32Signed(address &+ entry.hostDelta)
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .lwBranchLt:
                guard B.pairFits(left) else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = hostLoad32Signed(address &+ entry.hostDelta)
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .ldBranchEq:
                guard B.pairFits(left) else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFF8 else { break loop }
                x[rd] = hostLoad64(address &+ entry.hostDelta)
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .ldBranchLt:
                guard B.pairFits(left) else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFF8 else { break loop }
                x[rd] = hostLoad64(address &+ entry.hostDelta)
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .lbuBranchEq:
                guard B.pairFits(left) else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFF else { break loop }
                x[rd] = hostLoad8(address &+ entry.hostDelta)
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            case .lbuBranchLt:
                guard B.pairFits(left) else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = TLB.readEntry(x, address)
                guard entry.tag == address & ~0xFFF else { break loop }
                x[rd] = hostLoad8(address &+ entry.hostDelta)
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, state)
                left &-= 2; ip = B.afterJump(ip, left, exit); continue
            // A conditional branch over one instruction, run without a host branch; two ALU
            // instructions; two loads or two stores of one width from one base register, in one
            // page (one TLB lookup covers both, and neither is done unless both hit). One operation
            // per length: `ip` steps by a constant (see Hart+StraightPairs.swift).
            case .skipEqAdd2:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: false, xor: false)
                ip = d + 2; ip = B.afterStraight(ip, left, exit); continue
            case .skipEqAdd3:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: false, xor: false)
                ip = d + 3; ip = B.afterStraight(ip, left, exit); continue
            case .skipEqAdd4:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: false, xor: false)
                ip = d + 4; ip = B.afterStraight(ip, left, exit); continue
            case .skipEqXor2:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: false, xor: true)
                ip = d + 2; ip = B.afterStraight(ip, left, exit); continue
            case .skipEqXor3:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: false, xor: true)
                ip = d + 3; ip = B.afterStraight(ip, left, exit); continue
            case .skipEqXor4:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: false, xor: true)
                ip = d + 4; ip = B.afterStraight(ip, left, exit); continue
            case .skipLtAdd2:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: true, xor: false)
                ip = d + 2; ip = B.afterStraight(ip, left, exit); continue
            case .skipLtAdd3:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: true, xor: false)
                ip = d + 3; ip = B.afterStraight(ip, left, exit); continue
            case .skipLtAdd4:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: true, xor: false)
                ip = d + 4; ip = B.afterStraight(ip, left, exit); continue
            case .skipLtXor2:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: true, xor: true)
                ip = d + 2; ip = B.afterStraight(ip, left, exit); continue
            case .skipLtXor3:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: true, xor: true)
                ip = d + 3; ip = B.afterStraight(ip, left, exit); continue
            case .skipLtXor4:
                guard B.pairFits(left) else { break loop }
                left &-= Hart.skip(x, d, rd, rs1, rs2, imm, lessThan: true, xor: true)
                ip = d + 4; ip = B.afterStraight(ip, left, exit); continue
            case .srliSlliw3:
                guard B.pairFits(left) else { break loop }
                Hart.srliSlliw(x, d, rd, rs1, imm); ip = d + 3; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .srliSlliw4:
                guard B.pairFits(left) else { break loop }
                Hart.srliSlliw(x, d, rd, rs1, imm); ip = d + 4; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .slliAddw2:
                guard B.pairFits(left) else { break loop }
                Hart.slliAddw(x, d, rd, rs1, imm); ip = d + 2; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .slliAddw3:
                guard B.pairFits(left) else { break loop }
                Hart.slliAddw(x, d, rd, rs1, imm); ip = d + 3; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .slliAddw4:
                guard B.pairFits(left) else { break loop }
                Hart.slliAddw(x, d, rd, rs1, imm); ip = d + 4; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .ldLd2:
                guard B.pairFits(left), Hart.ldLd(x, d, rd, rs1, imm) else { break loop }
                ip = d + 2; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .ldLd3:
                guard B.pairFits(left), Hart.ldLd(x, d, rd, rs1, imm) else { break loop }
                ip = d + 3; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .ldLd4:
                guard B.pairFits(left), Hart.ldLd(x, d, rd, rs1, imm) else { break loop }
                ip = d + 4; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .lwLw2:
                guard B.pairFits(left), Hart.lwLw(x, d, rd, rs1, imm) else { break loop }
                ip = d + 2; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .lwLw3:
                guard B.pairFits(left), Hart.lwLw(x, d, rd, rs1, imm) else { break loop }
                ip = d + 3; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .lwLw4:
                guard B.pairFits(left), Hart.lwLw(x, d, rd, rs1, imm) else { break loop }
                ip = d + 4; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .sdSd2:
                guard B.pairFits(left), Hart.sdSd(x, d, rs1, rs2, imm) else { break loop }
                ip = d + 2; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .sdSd3:
                guard B.pairFits(left), Hart.sdSd(x, d, rs1, rs2, imm) else { break loop }
                ip = d + 3; left &-= 2; ip = B.afterStraight(ip, left, exit); continue
            case .sdSd4:
                guard B.pairFits(left), Hart.sdSd(x, d, rs1, rs2, imm) else { break loop }
                ip = d + 4; left &-= 2; ip = B.afterStraight(ip, left, exit); continue

            // MARK: Moving to another page, when its translation and slots are at hand
            case .refetch:
                let pc = pcAt(d, pageSlots, state.pointee.loopCodeBase)
                let entry = TLB.fetchEntry(x, pc)
                guard entry.tag == pc & ~(GuestMemory.pageSize - 1) else { break loop }
                let ramOffset = pc &+ entry.hostDelta &- context.ramBase
                guard let slots = context.decodedPages[Int(truncatingIfNeeded: ramOffset >> 12)] else { break loop }
                // Leaving the scratch page (if that is where we were): its slot goes back to
                // `.refetch` so that it is never stale when next used.
                context.scratch[Int(truncatingIfNeeded: state.pointee.scratchIndex)] = DecodedInstruction(op: .refetch)
                state.pointee.codeDelta = ramOffset &- pc
                state.pointee.loopCodeBase = pc & ~(GuestMemory.pageSize - 1)
                pageSlots = slots
                ip = slots + Int(truncatingIfNeeded: (pc & (GuestMemory.pageSize - 1)) >> 1)
                ip = B.afterJump(ip, left, exit); continue

            // Everything else (system, CSR, A, F, D, decoding, straddling instructions) needs
            // the slow step. (Listing the operations, not `default`, spares the dispatch a range check.)
            case .undecoded, .illegal, .straddle, .ecall, .ebreak, .mret, .sret, .wfi, .sfenceVMA, .csrrw,
                 .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci, .lrW, .scW, .amoswapW, .amoaddW, .amoxorW,
                 .amoandW, .amoorW, .amominW, .amomaxW, .amominuW, .amomaxuW, .lrD, .scD, .amoswapD,
                 .amoaddD, .amoxorD, .amoandD, .amoorD, .amominD, .amomaxD, .amominuD, .amomaxuD, .flw, .fsw,
                 .fmaddS, .fmsubS, .fnmsubS, .fnmaddS, .faddS, .fsubS, .fmulS, .fdivS, .fsqrtS, .fsgnjS,
                 .fsgnjnS, .fsgnjxS, .fminS, .fmaxS, .fcvtWS, .fcvtWUS, .fcvtLS, .fcvtLUS, .fmvXW, .feqS,
                 .fltS, .fleS, .fclassS, .fcvtSW, .fcvtSWU, .fcvtSL, .fcvtSLU, .fmvWX, .fld, .fsd, .fmaddD,
                 .fmsubD, .fnmsubD, .fnmaddD, .faddD, .fsubD, .fmulD, .fdivD, .fsqrtD, .fsgnjD, .fsgnjnD,
                 .fsgnjxD, .fminD, .fmaxD, .fcvtSD, .fcvtDS, .fcvtWD, .fcvtWUD, .fcvtLD, .fcvtLUD, .fmvXD,
                 .feqD, .fltD, .fleD, .fclassD, .fcvtDW, .fcvtDWU, .fcvtDL, .fcvtDLU, .fmvDX, .cFld, .cFsd:
                break loop
            }
        } while true
        ip = exit.resumed(ip)
        point = ExecutionPoint(ip: ip, pageSlots: pageSlots, codeBase: state.pointee.loopCodeBase, left: left)
    }

    /// Moves `ip` past a fused pair ending in a conditional branch (`imm` packed, see ``Fusion``):
    /// to the branch target if `taken`, else to the instruction after the pair.
    @inline(__always)
    static func endPair(_ taken: Bool, _ imm: UInt64, _ ip: inout UnsafeMutablePointer<DecodedInstruction>,
                        _ pageSlots: inout UnsafeMutablePointer<DecodedInstruction>, _ state: UnsafeMutablePointer<HartState>) {
        if taken {
            jump(UInt64(bitPattern: Int64(bitPattern: imm) >> 48), &ip, &pageSlots, state)
        } else {
            ip = pageSlots + Int(truncatingIfNeeded: (imm >> 33) & 0x7FFF)
        }
    }

    /// Moves `ip` to `offset` from the start of the current page: a slot of this page, or, beyond
    /// it (`offset` wraps for a target below the page), the `.refetch` page with
    /// ``HartState/loopCodeBase`` at the target, so that the next dispatch looks the page up.
    @inline(__always)
    static func jump(_ offset: UInt64, _ ip: inout UnsafeMutablePointer<DecodedInstruction>,
                     _ pageSlots: inout UnsafeMutablePointer<DecodedInstruction>, _ state: UnsafeMutablePointer<HartState>) {
        if offset < GuestMemory.pageSize {
            // Instructions start at even offsets (jalr's target has bit 0 cleared), so slot
            // offset / 2 lies offset * 8 bytes in: one `lea`, where `offset >> 1` needs an `and` too.
            assert(offset & 1 == 0 && MemoryLayout<DecodedInstruction>.stride == 16)
            ip = (UnsafeMutableRawPointer(pageSlots) + Int(truncatingIfNeeded: offset) &* 8).assumingMemoryBound(to: DecodedInstruction.self)
        } else {
            // Sound: set at the start of `runFast` to the memory's refetch page, which outlives it.
            let refetchSlots = state.pointee.loopRefetchSlots.unsafelyUnwrapped
            state.pointee.loopCodeBase &+= offset; pageSlots = refetchSlots; ip = refetchSlots
        }
    }
}

/// The condition of a fused beq/bne (``Fusion/negate`` in `condition` for bne).
@inline(__always) func pairEqual(_ a: UInt64, _ b: UInt64, _ condition: UInt8) -> Bool {
    (a == b) != (condition & Fusion.negate != 0)
}

/// The condition of a fused blt/bge/bltu/bgeu: a less-than, signed if ``Fusion/signed`` (the
/// sign bits flipped, it is an unsigned compare), negated for bge/bgeu.
@inline(__always) func pairLess(_ a: UInt64, _ b: UInt64, _ condition: UInt8) -> Bool {
    let flip = UInt64(condition & Fusion.signed) << 62
    return ((a ^ flip) < (b ^ flip)) != (condition & Fusion.negate != 0)
}
