/// Every operation the executor knows, one case per instruction semantics.
///
/// Compressed instructions decode to the same operations as their 32-bit equivalents;
/// the length lives in ``DecodedInstruction/length``. Raw value 0 means "not decoded yet",
/// so a zero-filled slot of the decoded-instruction cache decodes on first use.
@usableFromInline
package enum Op: UInt8 {
    case undecoded = 0
    case illegal
    /// Instruction straddles a 4 KiB page: fetched and decoded anew every time, never cached.
    case straddle
    /// Marks the slots of ``GuestMemory/refetchSlots``: the executor must look the pc's page up again.
    case refetch

    // RV64I
    case lui, auipc, jal, jalr
    case beq, bne, blt, bge, bltu, bgeu
    case lb, lh, lw, ld, lbu, lhu, lwu
    case sb, sh, sw, sd
    case addi, slti, sltiu, xori, ori, andi, slli, srli, srai
    case add, sub, sll, slt, sltu, xor, srl, sra, or, and
    case addiw, slliw, srliw, sraiw, addw, subw, sllw, srlw, sraw
    case fence, fenceI, ecall, ebreak, mret, sret, wfi, sfenceVMA
    // Zicsr
    case csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci
    // M
    case mul, mulh, mulhsu, mulhu, div, divu, rem, remu
    case mulw, divw, divuw, remw, remuw
    // A
    case lrW, scW, amoswapW, amoaddW, amoxorW, amoandW, amoorW, amominW, amomaxW, amominuW, amomaxuW
    case lrD, scD, amoswapD, amoaddD, amoxorD, amoandD, amoorD, amominD, amomaxD, amominuD, amomaxuD
    // F
    case flw, fsw
    case fmaddS, fmsubS, fnmsubS, fnmaddS
    case faddS, fsubS, fmulS, fdivS, fsqrtS
    case fsgnjS, fsgnjnS, fsgnjxS, fminS, fmaxS
    case fcvtWS, fcvtWUS, fcvtLS, fcvtLUS
    case fmvXW, feqS, fltS, fleS, fclassS
    case fcvtSW, fcvtSWU, fcvtSL, fcvtSLU, fmvWX
    // D
    case fld, fsd
    case fmaddD, fmsubD, fnmsubD, fnmaddD
    case faddD, fsubD, fmulD, fdivD, fsqrtD
    case fsgnjD, fsgnjnD, fsgnjxD, fminD, fmaxD
    case fcvtSD, fcvtDS
    case fcvtWD, fcvtWUD, fcvtLD, fcvtLUD
    case fmvXD, feqD, fltD, fleD, fclassD
    case fcvtDW, fcvtDWU, fcvtDL, fcvtDLU, fmvDX

    // Compressed forms. They execute like their 32-bit twins but advance the pc by 2; keeping the
    // length in the operation (not read from the record) lets the host CPU compute the next pc
    // without waiting for a load, which is what bounds an interpreter's speed.
    case cAddi, cAddiw, cLui, cSlli, cSrli, cSrai, cAndi
    case cAdd, cSub, cXor, cOr, cAnd, cSubw, cAddw
    case cLw, cLd, cSw, cSd, cFld, cFsd
    // c.jr has its own operation, apart from c.jalr, so that returns and computed jumps have a
    // dispatch jump of their own, which the host predicts apart from the calls'.
    case cJal, cJalr, cJr, cBeq, cBne

    // Fused pairs (see `Fusion.swift`): two adjacent instructions in one slot, retiring two
    // (or, for a skip whose branch is taken, one). `xBranchEq` is an instruction of family x
    // followed by beq/bne/c.beqz/c.bnez, `xBranchLt` by blt/bge/bltu/bgeu; `skipEqX`/`skipLtX`
    // is such a branch over one instruction of family x, run without a host branch.
    case addBranchEq, addBranchLt, addwBranchEq, addwBranchLt, andBranchEq, andBranchLt
    case subBranchEq, subBranchLt, slliwBranchEq, slliwBranchLt, srliBranchEq, srliBranchLt
    case lwBranchEq, lwBranchLt, ldBranchEq, ldBranchLt, lbuBranchEq, lbuBranchLt
    // The pairs that run straight on have one operation per length in 2-byte slots (see
    // Hart+StraightPairs.swift).
    case skipEqAdd2, skipEqAdd3, skipEqAdd4, skipEqXor2, skipEqXor3, skipEqXor4
    case skipLtAdd2, skipLtAdd3, skipLtAdd4, skipLtXor2, skipLtXor3, skipLtXor4
    // Two ALU instructions: srli then slliw, slli then an addw-family instruction.
    case srliSlliw3, srliSlliw4, slliAddw2, slliAddw3, slliAddw4
    // Two loads or two stores of one width from one base register (which the first load does
    // not change).
    case ldLd2, ldLd3, ldLd4, lwLw2, lwLw3, lwLw4, sdSd2, sdSd3, sdSd4
}
