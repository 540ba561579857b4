/// The interpreter's hot loop: the instructions that need no call.
///
/// `Hart.execute` alternates between this loop and a slow step for one instruction. The loop
/// runs the common instructions (integer ALU, M, loads and stores that hit the TLBs, branches and
/// jumps, page changes whose fetch translation and decoded slots already exist) and returns, with
/// `ip` at the instruction, as soon as it meets anything else: an operation that needs the rest of
/// the hart (system instructions, CSRs, atomics, floating point, traps), a TLB miss, a slot to
/// decode. Because nothing in it calls a function, no value has to survive a call, and the loop
/// state, the register file and the TLBs stay in host registers.

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
/// which outlive the call.
@usableFromInline
struct FastLoopContext {
    let x: UnsafeMutablePointer<UInt64>
    let tlb: UnsafeMutablePointer<TLBEntry>
    let refetchSlots: UnsafeMutablePointer<DecodedInstruction>
    let scratch: UnsafeMutablePointer<DecodedInstruction>
    let decodedPages: UnsafeMutablePointer<UnsafeMutablePointer<DecodedInstruction>?>
    /// The host address of RAM's first byte.
    let ramBase: UInt64
    let state: UnsafeMutablePointer<HartState>
}

extension Hart {
    /// Runs instructions from `point` until `left` reaches zero or the instruction at `ip` needs
    /// the slow step. Every instruction run here retires.
    @inline(never)
    static func runFast(_ point: inout ExecutionPoint, _ context: FastLoopContext) {
        let x = context.x
        let tlb = context.tlb
        let refetchSlots = context.refetchSlots
        var ip = point.ip
        var pageSlots = point.pageSlots
        var codeBase = point.codeBase
        var left = point.left

        loop: while left > 0 {
            // Operands are read straight from the slot (one byte load each), not unpacked
            // from a copy of the record.
            let d = ip
            let rd = Int(d.pointee.rd), rs1 = Int(d.pointee.rs1), rs2 = Int(d.pointee.rs2)
            let imm = UInt64(bitPattern: d.pointee.imm)

            switch d.pointee.op {
            // MARK: RV64I
            // Branch and jal immediates are relative to the page (see `Hart.relocate`): the
            // target's offset in this page, or beyond it. A jump sets `ip` and continues.
            case .lui: x[rd] = imm
            case .cLui: x[rd] = imm; ip = d + 1; left &-= 1; continue
            case .auipc: x[rd] = codeBase &+ imm
            case .jal:
                x[rd] = pcAt(d, pageSlots, codeBase) &+ 4
                if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                left &-= 1; continue
            case .cJal:
                x[rd] = pcAt(d, pageSlots, codeBase) &+ 2
                if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                left &-= 1; continue
            case .jalr:
                let target = (x[rs1] &+ imm) & ~1
                x[rd] = pcAt(d, pageSlots, codeBase) &+ 4
                let o = target &- codeBase
                if o < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: o >> 1) } else { codeBase = target; pageSlots = refetchSlots; ip = refetchSlots }
                left &-= 1; continue
            case .cJalr:
                let target = x[rs1] & ~1
                x[rd] = pcAt(d, pageSlots, codeBase) &+ 2
                let o = target &- codeBase
                if o < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: o >> 1) } else { codeBase = target; pageSlots = refetchSlots; ip = refetchSlots }
                left &-= 1; continue
            case .beq:
                if x[rs1] == x[rs2] {
                    if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                    left &-= 1; continue
                }
            case .bne:
                if x[rs1] != x[rs2] {
                    if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                    left &-= 1; continue
                }
            case .blt:
                if Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) {
                    if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                    left &-= 1; continue
                }
            case .bge:
                if Int64(bitPattern: x[rs1]) >= Int64(bitPattern: x[rs2]) {
                    if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                    left &-= 1; continue
                }
            case .bltu:
                if x[rs1] < x[rs2] {
                    if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                    left &-= 1; continue
                }
            case .bgeu:
                if x[rs1] >= x[rs2] {
                    if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                    left &-= 1; continue
                }
            case .cBeq:
                if x[rs1] == 0 {
                    if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                } else {
                    ip = d + 1
                }
                left &-= 1; continue
            case .cBne:
                if x[rs1] != 0 {
                    if imm < GuestMemory.pageSize { ip = pageSlots + Int(truncatingIfNeeded: imm >> 1) } else { codeBase &+= imm; pageSlots = refetchSlots; ip = refetchSlots }
                } else {
                    ip = d + 1
                }
                left &-= 1; continue

            // MARK: Loads and stores that hit the TLBs (a miss leaves for the slow step)
            case .lb:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFF else { break loop }
                x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int8.self)))
            case .lbu:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFF else { break loop }
                x[rd] = UInt64(hostPointer(address &+ entry.hostDelta).load(as: UInt8.self))
            case .lh:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFE else { break loop }
                x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int16.self)))
            case .lhu:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFE else { break loop }
                x[rd] = UInt64(hostPointer(address &+ entry.hostDelta).load(as: UInt16.self))
            case .lw:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int32.self)))
            case .lwu:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = UInt64(hostPointer(address &+ entry.hostDelta).load(as: UInt32.self))
            case .ld:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFF8 else { break loop }
                x[rd] = hostPointer(address &+ entry.hostDelta).load(as: UInt64.self)
            case .cLw:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int32.self)))
                ip = d + 1; left &-= 1; continue
            case .cLd:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFF8 else { break loop }
                x[rd] = hostPointer(address &+ entry.hostDelta).load(as: UInt64.self)
                ip = d + 1; left &-= 1; continue
            case .sb:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.entries + TLB.index(address)]
                guard entry.tag == address & ~0xFFF else { break loop }
                hostPointer(address &+ entry.hostDelta).storeBytes(of: UInt8(truncatingIfNeeded: x[rs2]), as: UInt8.self)
            case .sh:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.entries + TLB.index(address)]
                guard entry.tag == address & ~0xFFE else { break loop }
                hostPointer(address &+ entry.hostDelta).storeBytes(of: UInt16(truncatingIfNeeded: x[rs2]), as: UInt16.self)
            case .sw:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.entries + TLB.index(address)]
                guard entry.tag == address & ~0xFFC else { break loop }
                hostPointer(address &+ entry.hostDelta).storeBytes(of: UInt32(truncatingIfNeeded: x[rs2]), as: UInt32.self)
            case .sd:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.entries + TLB.index(address)]
                guard entry.tag == address & ~0xFF8 else { break loop }
                hostPointer(address &+ entry.hostDelta).storeBytes(of: x[rs2], as: UInt64.self)
            case .cSw:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.entries + TLB.index(address)]
                guard entry.tag == address & ~0xFFC else { break loop }
                hostPointer(address &+ entry.hostDelta).storeBytes(of: UInt32(truncatingIfNeeded: x[rs2]), as: UInt32.self)
                ip = d + 1; left &-= 1; continue
            case .cSd:
                let address = x[rs1] &+ imm
                let entry = tlb[TLB.entries + TLB.index(address)]
                guard entry.tag == address & ~0xFF8 else { break loop }
                hostPointer(address &+ entry.hostDelta).storeBytes(of: x[rs2], as: UInt64.self)
                ip = d + 1; left &-= 1; continue

            case .addi: x[rd] = x[rs1] &+ imm
            case .cAddi: x[rd] = x[rs1] &+ imm; ip = d + 1; left &-= 1; continue
            case .slti: x[rd] = Int64(bitPattern: x[rs1]) < d.pointee.imm ? 1 : 0
            case .sltiu: x[rd] = x[rs1] < imm ? 1 : 0
            case .xori: x[rd] = x[rs1] ^ imm
            case .ori: x[rd] = x[rs1] | imm
            case .andi: x[rd] = x[rs1] & imm
            case .cAndi: x[rd] = x[rs1] & imm; ip = d + 1; left &-= 1; continue
            case .slli: x[rd] = x[rs1] << (imm & 63)
            case .cSlli: x[rd] = x[rs1] << (imm & 63); ip = d + 1; left &-= 1; continue
            case .srli: x[rd] = x[rs1] >> (imm & 63)
            case .cSrli: x[rd] = x[rs1] >> (imm & 63); ip = d + 1; left &-= 1; continue
            case .srai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63))
            case .cSrai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63)); ip = d + 1; left &-= 1; continue
            case .add: x[rd] = x[rs1] &+ x[rs2]
            case .cAdd: x[rd] = x[rs1] &+ x[rs2]; ip = d + 1; left &-= 1; continue
            case .sub: x[rd] = x[rs1] &- x[rs2]
            case .cSub: x[rd] = x[rs1] &- x[rs2]; ip = d + 1; left &-= 1; continue
            case .sll: x[rd] = x[rs1] << (x[rs2] & 63)
            case .slt: x[rd] = Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) ? 1 : 0
            case .sltu: x[rd] = x[rs1] < x[rs2] ? 1 : 0
            case .xor: x[rd] = x[rs1] ^ x[rs2]
            case .cXor: x[rd] = x[rs1] ^ x[rs2]; ip = d + 1; left &-= 1; continue
            case .srl: x[rd] = x[rs1] >> (x[rs2] & 63)
            case .sra: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (x[rs2] & 63))
            case .or: x[rd] = x[rs1] | x[rs2]
            case .cOr: x[rd] = x[rs1] | x[rs2]; ip = d + 1; left &-= 1; continue
            case .and: x[rd] = x[rs1] & x[rs2]
            case .cAnd: x[rd] = x[rs1] & x[rs2]; ip = d + 1; left &-= 1; continue
            case .addiw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ imm))
            case .cAddiw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ imm)); ip = d + 1; left &-= 1; continue
            case .slliw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(imm & 31))
            case .srliw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) >> UInt32(imm & 31))
            case .sraiw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) >> Int32(imm & 31)))
            case .addw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2]))
            case .cAddw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2])); ip = d + 1; left &-= 1; continue
            case .subw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &- x[rs2]))
            case .cSubw: x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &- x[rs2])); ip = d + 1; left &-= 1; continue
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

            case .fence: break
            case .fenceI: break   // stores already invalidate the decoded instructions they overwrite

            // MARK: Fused pairs (see Fusion.swift); fewer than two to retire leaves for the slow step
            // An instruction, then a conditional branch on what may be its result.
            case .addBranchEq:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] &+ x[rs2] &+ low
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .addBranchLt:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] &+ x[rs2] &+ low
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .addwBranchEq:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2] &+ low))
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .addwBranchLt:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1] &+ x[rs2] &+ low))
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .andBranchEq:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] & (x[rs2] | low)
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .andBranchLt:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] & (x[rs2] | low)
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .subBranchEq:
                guard left > 1 else { break loop }
                x[rd] = x[rs1] &- x[rs2]
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .subBranchLt:
                guard left > 1 else { break loop }
                x[rd] = x[rs1] &- x[rs2]
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .slliwBranchEq:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(low & 31))
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .slliwBranchLt:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = signExtend32(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(low & 31))
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .srliBranchEq:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] >> (low & 63)
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .srliBranchLt:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                x[rd] = x[rs1] >> (low & 63)
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .lwBranchEq:
                guard left > 1 else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int32.self)))
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .lwBranchLt:
                guard left > 1 else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFC else { break loop }
                x[rd] = UInt64(bitPattern: Int64(hostPointer(address &+ entry.hostDelta).load(as: Int32.self)))
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .ldBranchEq:
                guard left > 1 else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFF8 else { break loop }
                x[rd] = hostPointer(address &+ entry.hostDelta).load(as: UInt64.self)
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .ldBranchLt:
                guard left > 1 else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFF8 else { break loop }
                x[rd] = hostPointer(address &+ entry.hostDelta).load(as: UInt64.self)
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .lbuBranchEq:
                guard left > 1 else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFF else { break loop }
                x[rd] = UInt64(hostPointer(address &+ entry.hostDelta).load(as: UInt8.self))
                Hart.endPair(pairEqual(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            case .lbuBranchLt:
                guard left > 1 else { break loop }
                let address = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let entry = tlb[TLB.index(address)]
                guard entry.tag == address & ~0xFFF else { break loop }
                x[rd] = UInt64(hostPointer(address &+ entry.hostDelta).load(as: UInt8.self))
                Hart.endPair(pairLess(x[Int(d.pointee.rs3)], x[Int(d.pointee.rm)], d.pointee.condition), imm, &ip, &pageSlots, &codeBase, refetchSlots)
                left &-= 2; continue
            // A conditional branch over one instruction: its result is selected, not branched over.
            case .skipEqAdd:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let taken = pairEqual(x[rs1], x[rs2], d.pointee.condition)
                let value = x[Int(d.pointee.rs3)] &+ x[Int(d.pointee.rm)] &+ low
                x[rd] = taken ? x[rd] : value
                left &-= taken ? 1 : 2
                ip = pageSlots + Int(truncatingIfNeeded: (imm >> 33) & 0x7FFF)
                continue
            case .skipEqXor:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let taken = pairEqual(x[rs1], x[rs2], d.pointee.condition)
                let value = x[Int(d.pointee.rs3)] ^ (x[Int(d.pointee.rm)] | low)
                x[rd] = taken ? x[rd] : value
                left &-= taken ? 1 : 2
                ip = pageSlots + Int(truncatingIfNeeded: (imm >> 33) & 0x7FFF)
                continue
            case .skipLtAdd:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let taken = pairLess(x[rs1], x[rs2], d.pointee.condition)
                let value = x[Int(d.pointee.rs3)] &+ x[Int(d.pointee.rm)] &+ low
                x[rd] = taken ? x[rd] : value
                left &-= taken ? 1 : 2
                ip = pageSlots + Int(truncatingIfNeeded: (imm >> 33) & 0x7FFF)
                continue
            case .skipLtXor:
                guard left > 1 else { break loop }
                let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
                let taken = pairLess(x[rs1], x[rs2], d.pointee.condition)
                let value = x[Int(d.pointee.rs3)] ^ (x[Int(d.pointee.rm)] | low)
                x[rd] = taken ? x[rd] : value
                left &-= taken ? 1 : 2
                ip = pageSlots + Int(truncatingIfNeeded: (imm >> 33) & 0x7FFF)
                continue

            // Two ALU instructions.
            case .srliSlliw:
                guard left > 1 else { break loop }
                x[rd] = x[rs1] >> (imm & 63)
                x[Int(d.pointee.rs3)] = signExtend32(UInt32(truncatingIfNeeded: x[Int(d.pointee.rm)]) << UInt32((imm >> 48) & 31))
                ip = pageSlots + Int(truncatingIfNeeded: (imm >> 33) & 0x7FFF)
                left &-= 2; continue
            case .slliAddw:
                guard left > 1 else { break loop }
                x[rd] = x[rs1] << (imm & 63)
                let second = x[Int(d.pointee.rm)] &+ x[Int(d.pointee.condition)] &+ UInt64(bitPattern: Int64(bitPattern: imm) >> 48)
                x[Int(d.pointee.rs3)] = signExtend32(UInt32(truncatingIfNeeded: second))
                ip = pageSlots + Int(truncatingIfNeeded: (imm >> 33) & 0x7FFF)
                left &-= 2; continue

            // MARK: Moving to another page, when its translation and slots are at hand
            case .refetch:
                let pc = pcAt(d, pageSlots, codeBase)
                let entry = tlb[2 * TLB.entries + TLB.index(pc)]
                guard entry.tag == pc & ~(GuestMemory.pageSize - 1) else { break loop }
                let ramOffset = pc &+ entry.hostDelta &- context.ramBase
                guard let slots = context.decodedPages[Int(truncatingIfNeeded: ramOffset >> 12)] else { break loop }
                // Leaving the scratch page (if that is where we were): its slot goes back to
                // `.refetch` so that it is never stale when next used.
                context.scratch[Int(truncatingIfNeeded: context.state.pointee.scratchIndex)] = DecodedInstruction(op: .refetch)
                context.state.pointee.codeDelta = ramOffset &- pc
                codeBase = pc & ~(GuestMemory.pageSize - 1)
                pageSlots = slots
                ip = slots + Int(truncatingIfNeeded: (pc & (GuestMemory.pageSize - 1)) >> 1)
                continue

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
            // The instruction retired and did not jump: the next slot is that of a 4-byte
            // instruction (compressed ones step one slot and continue, as do jumps).
            ip = d + 2
            left &-= 1
        }
        point = ExecutionPoint(ip: ip, pageSlots: pageSlots, codeBase: codeBase, left: left)
    }

    /// Moves `ip` past a fused pair ending in a conditional branch (`imm` packed, see ``Fusion``):
    /// to the branch target if `taken`, else to the instruction after the pair.
    @inline(__always)
    static func endPair(_ taken: Bool, _ imm: UInt64, _ ip: inout UnsafeMutablePointer<DecodedInstruction>,
                        _ pageSlots: inout UnsafeMutablePointer<DecodedInstruction>, _ codeBase: inout UInt64,
                        _ refetchSlots: UnsafeMutablePointer<DecodedInstruction>) {
        if taken {
            let target = UInt64(bitPattern: Int64(bitPattern: imm) >> 48)
            if target < GuestMemory.pageSize {
                ip = pageSlots + Int(truncatingIfNeeded: target >> 1)
            } else {
                codeBase &+= target; pageSlots = refetchSlots; ip = refetchSlots
            }
        } else {
            ip = pageSlots + Int(truncatingIfNeeded: (imm >> 33) & 0x7FFF)
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
