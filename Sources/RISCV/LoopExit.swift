/// How the fast loop stops after a budget check without a conditional branch: `ip` is saved and
/// replaced (a `cmov`) by a slot whose operation leaves the loop, and restored after it.
///
/// A handler that ended in a branch to the loop's exit would have two successors, and LLVM copies
/// the dispatch only into blocks with one: those handlers would share one indirect jump (where the
/// CPU benchmark spent 20% of its time, see Hart+FastLoop.swift).
@usableFromInline
struct LoopExit {
    /// A slot of ``Op/undecoded``, whose handler leaves the loop.
    @usableFromInline let slot: UnsafeMutablePointer<DecodedInstruction>
    /// Where `ip` is saved (``HartState/loopResume``).
    @usableFromInline let state: UnsafeMutablePointer<HartState>

    /// The stop slot if `stop`, else `ip`; `ip` is saved either way (a store, not a branch).
    @inlinable @inline(__always)
    func stopping(if stop: Bool, _ ip: UnsafeMutablePointer<DecodedInstruction>) -> UnsafeMutablePointer<DecodedInstruction> {
        state.pointee.loopResume = ip
        return stop ? slot : ip
    }

    /// Where the loop stopped: the saved `ip` if it left through the stop slot, else `ip`.
    @inlinable @inline(__always)
    func resumed(_ ip: UnsafeMutablePointer<DecodedInstruction>) -> UnsafeMutablePointer<DecodedInstruction> {
        ip == slot ? state.pointee.loopResume ?? ip : ip
    }
}
