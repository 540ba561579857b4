/// When the fast loop (`Hart.runFast`) checks how many instructions it may still retire.
///
/// Checking after every instruction costs a compare and a branch per instruction, and it splits
/// the loop's shared tail from its dispatch. But code runs straight on (forward, one instruction
/// per one or two slots) until a jump, a taken branch or the end of its page, and a page holds at
/// most 2048 instructions. So while more than `floor` (4096) instructions may retire, a check at
/// each jump, taken branch and page change is enough: between two checks at most 2048 retire, and
/// the budget never runs out unchecked. The last `floor` instructions of a budget run with a
/// check after each one, so the count stays exact.
///
/// `Hart.runFast` is generic over this protocol and specialised for each conformer: the checks
/// are compile-time constants in its two copies.
@usableFromInline
protocol BudgetCheck {
    /// Whether the budget is checked after every instruction (else only at jumps and page changes).
    static var afterEveryInstruction: Bool { get }
    /// The loop runs only while more than this many instructions may retire, and leaves at a
    /// check that finds no more than this many.
    static var floor: Int { get }
}

/// The exact check: after every instruction, for the end of a budget.
@usableFromInline
enum CheckEveryInstruction: BudgetCheck {
    @inlinable static var afterEveryInstruction: Bool { true }
    @inlinable static var floor: Int { 0 }
}

/// The cheap check: at jumps, taken branches and page changes, while the budget is large.
@usableFromInline
enum CheckAtJumps: BudgetCheck {
    @inlinable static var afterEveryInstruction: Bool { false }
    /// Twice the most instructions that can retire between two checks (2048, one page of
    /// compressed instructions).
    @inlinable static var floor: Int { 2 * Int(GuestMemory.pageSize / 2) }
}

extension BudgetCheck {
    /// After an instruction that ran straight on: whether the loop must stop (only the exact
    /// check stops here, when nothing is left).
    @inlinable @inline(__always) static func stopsAfterStraight(_ left: Int) -> Bool {
        afterEveryInstruction && left <= 0
    }

    /// After a jump, a taken branch or a page change: whether the loop must stop (no more than
    /// `floor` instructions left).
    @inlinable @inline(__always) static func stopsAfterJump(_ left: Int) -> Bool {
        left <= floor
    }

    /// Whether a fused pair (two instructions) may run. Only the exact check needs to look:
    /// with the cheap check, more than `floor` remained at the last check and at most 2048
    /// retired since, so more than 2048 remain (a constant `true`, and the pair handlers have
    /// no compare for it).
    @inlinable @inline(__always) static func pairFits(_ left: Int) -> Bool {
        afterEveryInstruction ? left > 1 : true
    }

    /// `ip` after an instruction that ran straight on, or the stop slot if the loop must stop.
    @inlinable @inline(__always) static func afterStraight(_ ip: UnsafeMutablePointer<DecodedInstruction>, _ left: Int,
                                                          _ exit: LoopExit) -> UnsafeMutablePointer<DecodedInstruction> {
        afterEveryInstruction ? exit.stopping(if: stopsAfterStraight(left), ip) : ip
    }

    /// `ip` after a jump, a taken branch or a page change, or the stop slot if the loop must stop.
    @inlinable @inline(__always) static func afterJump(_ ip: UnsafeMutablePointer<DecodedInstruction>, _ left: Int,
                                                      _ exit: LoopExit) -> UnsafeMutablePointer<DecodedInstruction> {
        exit.stopping(if: stopsAfterJump(left), ip)
    }
}
