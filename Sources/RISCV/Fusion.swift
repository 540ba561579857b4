/// Superinstructions: two adjacent instructions decoded into one slot, run by one dispatch.
///
/// Which pairs (measured on the CPU benchmark and a Linux boot, see docs/benchmarks.md):
/// - an instruction followed by a conditional branch, for the families most often found there:
///   `add` (add, addi, mv, li, lui and their compressed forms), `addw` (addw, addiw, c.addw,
///   c.addiw), `and` (and, andi, c.and, c.andi), `sub` (sub, c.sub), `slliw`, `srli` (srli,
///   c.srli), and the loads `lw` (lw, c.lw), `ld` (ld, c.ld) and `lbu`;
/// - two ALU instructions: `srli` then `slliw`, `slli` then an `addw`-family instruction;
/// - two loads of one width (`ld`, `lw`) or two stores (`sd`), compressed or not, from one base
///   register that the first load does not write: both accesses are looked up before either is
///   done, so the pair runs whole or not at all;
/// - a conditional branch over exactly one `add`-family or `xor`-family instruction (a "skip"),
///   which runs without a host branch: the skipped instruction's result is selected, and one or
///   two instructions retire. A data-dependent guest branch then costs no host misprediction.
///
/// Families are unified with the zero register: `addi rd, rs1, imm` is `rd = x[rs1] + x[0] + imm`,
/// `add rd, rs1, rs2` is `rd = x[rs1] + x[rs2] + 0`, `andi` is `x[rs1] & (x[0] | imm)`.
///
/// The packed slot: `rd`, `rs1`, `rs2` are the first instruction's (for a skip: the skipped
/// instruction's `rd` and the branch's `rs1`, `rs2`); `rs3`, `rm` the branch's sources (for a
/// skip: the skipped instruction's); `condition` bit 0 negates the branch condition, bit 1 makes
/// a less-than comparison signed. `imm` bits 0-31 are the first instruction's immediate (for a
/// skip: the skipped one's), sign-extended; bits 32-47 the page offset after the pair (read only by
/// the pairs ending in a branch: the others step by their length, see ``Straight``); bits 48-63
/// the branch target's page offset (signed; beyond 4095 it lies on another page), or for two ALU
/// instructions the second's immediate (whose rd, rs1, rs2 are then in `rs3`, `rm`, `condition`),
/// or for two loads or stores the second's offset (see ``memoryPair(_:_:end:)``).
///
/// Rules that keep execution exact:
/// - Both instructions lie in the same page (decoded slots never depend on another page), and a
///   store that overwrites any byte of the pair clears the first slot: ``GuestMemory`` clears
///   every slot that starts up to 6 bytes before a stored range.
/// - The second instruction keeps its own slot (decoded on its own when reached), so a jump to it
///   works.
/// - A pair runs only when two instructions may still retire, and only on the fast path (loads
///   and stores that hit the TLBs). Otherwise the slow step runs the first instruction alone, decoded again
///   from memory into the scratch page, and the second follows in its own slot: retired counts,
///   traps and interrupt points are those of single steps.
enum Fusion {
    /// Branch-condition encoding in ``DecodedInstruction/condition``.
    static let negate: UInt8 = 1
    static let signed: UInt8 = 2

    /// The condition of a conditional branch: the fused operations for beq-like (`Eq`) or
    /// blt-like (`Lt`) branches, condition bits, and the two source registers.
    struct Branch {
        let lessThan: Bool
        let condition: UInt8
        let rs1: UInt8
        let rs2: UInt8
    }

    static func branch(_ d: DecodedInstruction) -> Branch? {
        switch d.op {
        case .beq: Branch(lessThan: false, condition: 0, rs1: d.rs1, rs2: d.rs2)
        case .bne: Branch(lessThan: false, condition: negate, rs1: d.rs1, rs2: d.rs2)
        case .cBeq: Branch(lessThan: false, condition: 0, rs1: d.rs1, rs2: 0)
        case .cBne: Branch(lessThan: false, condition: negate, rs1: d.rs1, rs2: 0)
        case .blt: Branch(lessThan: true, condition: signed, rs1: d.rs1, rs2: d.rs2)
        case .bge: Branch(lessThan: true, condition: signed | negate, rs1: d.rs1, rs2: d.rs2)
        case .bltu: Branch(lessThan: true, condition: 0, rs1: d.rs1, rs2: d.rs2)
        case .bgeu: Branch(lessThan: true, condition: negate, rs1: d.rs1, rs2: d.rs2)
        default: nil
        }
    }

    /// An instruction in one of the fused families: its fused operations (before a beq-like and
    /// a blt-like branch) and its operands in the unified form.
    struct First {
        let beforeEq: Op
        let beforeLt: Op
        let rd: UInt8
        let rs1: UInt8
        let rs2: UInt8
        let imm: Int64
    }

    static func first(_ d: DecodedInstruction) -> First? {
        func make(_ eq: Op, _ lt: Op, rs1: UInt8? = nil, rs2: UInt8 = 0, imm: Int64 = 0) -> First {
            First(beforeEq: eq, beforeLt: lt, rd: d.rd, rs1: rs1 ?? d.rs1, rs2: rs2, imm: imm)
        }
        switch d.op {
        case .add, .cAdd: return make(.addBranchEq, .addBranchLt, rs2: d.rs2)
        case .addi, .cAddi: return make(.addBranchEq, .addBranchLt, imm: d.imm)
        case .lui, .cLui: return make(.addBranchEq, .addBranchLt, rs1: 0, imm: d.imm)
        case .addw, .cAddw: return make(.addwBranchEq, .addwBranchLt, rs2: d.rs2)
        case .addiw, .cAddiw: return make(.addwBranchEq, .addwBranchLt, imm: d.imm)
        case .and, .cAnd: return make(.andBranchEq, .andBranchLt, rs2: d.rs2)
        case .andi, .cAndi: return make(.andBranchEq, .andBranchLt, imm: d.imm)
        case .sub, .cSub: return make(.subBranchEq, .subBranchLt, rs2: d.rs2)
        case .slliw: return make(.slliwBranchEq, .slliwBranchLt, imm: d.imm)
        case .srli, .cSrli: return make(.srliBranchEq, .srliBranchLt, imm: d.imm)
        case .lw, .cLw: return make(.lwBranchEq, .lwBranchLt, imm: d.imm)
        case .ld, .cLd: return make(.ldBranchEq, .ldBranchLt, imm: d.imm)
        case .lbu: return make(.lbuBranchEq, .lbuBranchLt, imm: d.imm)
        default: return nil
        }
    }

    /// The fused slot for `a` followed by `b` (both relocated, see `Hart.relocate`), where `end`
    /// is the page offset just after `b`; nil if the pair is not one that fuses.
    static func fuse(_ a: DecodedInstruction, _ b: DecodedInstruction, end: UInt64) -> DecodedInstruction? {
        if let x = first(a), let br = branch(b) {
            var d = DecodedInstruction(op: br.lessThan ? x.beforeLt : x.beforeEq, rd: x.rd, rs1: x.rs1, rs2: x.rs2,
                                       rs3: br.rs1, rm: br.rs2, length: a.length, imm: pack(x.imm, end: end, target: b.imm))
            d.condition = br.condition
            return d
        }
        // A skip: `a` branches to just after `b`, and `b` is an add- or xor-family instruction.
        if let br = branch(a), UInt64(bitPattern: a.imm) == end {
            let family: Straight, rs1: UInt8, rs2: UInt8, imm: Int64
            switch b.op {
            case .add, .cAdd: (family, rs1, rs2, imm) = (br.lessThan ? .skipLtAdd : .skipEqAdd, b.rs1, b.rs2, 0)
            case .addi, .cAddi: (family, rs1, rs2, imm) = (br.lessThan ? .skipLtAdd : .skipEqAdd, b.rs1, 0, b.imm)
            case .xor, .cXor: (family, rs1, rs2, imm) = (br.lessThan ? .skipLtXor : .skipEqXor, b.rs1, b.rs2, 0)
            case .xori: (family, rs1, rs2, imm) = (br.lessThan ? .skipLtXor : .skipEqXor, b.rs1, 0, b.imm)
            default: return nil
            }
            guard let op = family.op(a, b) else { return nil }
            var d = DecodedInstruction(op: op, rd: b.rd, rs1: br.rs1, rs2: br.rs2, rs3: rs1, rm: rs2,
                                       length: a.length, imm: pack(imm, end: end, target: a.imm))
            d.condition = br.condition
            return d
        }
        if let pair = memoryPair(a, b, end: end) { return pair }
        // Two ALU instructions (the pairs of a bitwise CRC loop, the hottest left unfused in the
        // CPU benchmark): the second's rd, rs1, rs2 in rs3, rm, condition.
        let family: Straight, rs2: UInt8, imm: Int64
        switch (a.op, b.op) {
        case (.srli, .slliw), (.cSrli, .slliw): (family, rs2, imm) = (.srliSlliw, 0, b.imm)
        case (.slli, .addiw), (.slli, .cAddiw), (.cSlli, .addiw), (.cSlli, .cAddiw): (family, rs2, imm) = (.slliAddw, 0, b.imm)
        case (.slli, .addw), (.slli, .cAddw), (.cSlli, .addw), (.cSlli, .cAddw): (family, rs2, imm) = (.slliAddw, b.rs2, 0)
        default: return nil
        }
        guard let op = family.op(a, b) else { return nil }
        var d = DecodedInstruction(op: op, rd: a.rd, rs1: a.rs1, rs3: b.rd, rm: b.rs1, length: a.length,
                                   imm: pack(a.imm, end: end, target: imm))
        d.condition = rs2
        return d
    }

    /// Two loads or two stores of one width (compressed or not) with one base register, which
    /// the first load does not write: `rd`, `rs1` are the first's destination (for stores: base,
    /// and `rs2` its value), `rs3` the second's destination (for stores: `rm` its value). The
    /// fast loop runs the pair only if both accesses fall in one page (one TLB lookup for both).
    static func memoryPair(_ a: DecodedInstruction, _ b: DecodedInstruction, end: UInt64) -> DecodedInstruction? {
        func width(_ op: Op) -> Straight? {
            switch op {
            case .ld, .cLd: .ldLd
            case .lw, .cLw: .lwLw
            case .sd, .cSd: .sdSd
            default: nil
            }
        }
        guard let family = width(a.op), width(b.op) == family, b.rs1 == a.rs1,
              Int64(Int16(truncatingIfNeeded: b.imm)) == b.imm, let op = family.op(a, b) else { return nil }
        if family == .sdSd {
            return DecodedInstruction(op: op, rs1: a.rs1, rs2: a.rs2, rm: b.rs2, length: a.length,
                                      imm: pack(a.imm, end: end, target: b.imm))
        }
        guard a.rd != a.rs1 else { return nil }
        return DecodedInstruction(op: op, rd: a.rd, rs1: a.rs1, rs3: b.rd, length: a.length,
                                  imm: pack(a.imm, end: end, target: b.imm))
    }

    /// The pairs that run straight on, each with one operation per length (see
    /// Hart+StraightPairs.swift).
    enum Straight {
        case skipEqAdd, skipEqXor, skipLtAdd, skipLtXor, srliSlliw, slliAddw, ldLd, lwLw, sdSd

        /// The operation for `a` followed by `b`: by their length in 2-byte slots, 2 to 4 (nil
        /// for a length this pair cannot have).
        func op(_ a: DecodedInstruction, _ b: DecodedInstruction) -> Op? {
            let slots = (Int(a.length) + Int(b.length)) / 2
            guard (2...4).contains(slots) else { return nil }
            let sized: (Op?, Op, Op)
            switch self {
            case .skipEqAdd: sized = (.skipEqAdd2, .skipEqAdd3, .skipEqAdd4)
            case .skipEqXor: sized = (.skipEqXor2, .skipEqXor3, .skipEqXor4)
            case .skipLtAdd: sized = (.skipLtAdd2, .skipLtAdd3, .skipLtAdd4)
            case .skipLtXor: sized = (.skipLtXor2, .skipLtXor3, .skipLtXor4)
            case .srliSlliw: sized = (nil, .srliSlliw3, .srliSlliw4)   // slliw has no compressed form
            case .slliAddw: sized = (.slliAddw2, .slliAddw3, .slliAddw4)
            case .ldLd: sized = (.ldLd2, .ldLd3, .ldLd4)
            case .lwLw: sized = (.lwLw2, .lwLw3, .lwLw4)
            case .sdSd: sized = (.sdSd2, .sdSd3, .sdSd4)
            }
            return slots == 2 ? sized.0 : slots == 3 ? sized.1 : sized.2
        }
    }

    /// `imm` (which fits in 32 bits: 12-bit immediates, shift amounts, lui's 32-bit value), the
    /// page offset after the pair (0...4096) and a branch target's page offset (-4096...8190) or a
    /// 12-bit immediate.
    static func pack(_ imm: Int64, end: UInt64, target: Int64) -> Int64 {
        precondition(Int64(Int32(truncatingIfNeeded: imm)) == imm && end <= GuestMemory.pageSize
                     && Int64(Int16(truncatingIfNeeded: target)) == target)
        return Int64(bitPattern: UInt64(UInt32(truncatingIfNeeded: imm)) | end << 32
                     | UInt64(UInt16(truncatingIfNeeded: target)) << 48)
    }
}
