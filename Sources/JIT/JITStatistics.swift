/// What a ``JITAccelerator`` has done so far: what it translated, how much code and memory that
/// took, and how often the loop left translated code for the interpreter (`lockstep run --stats`).
///
/// Everything is a count of events in the guest's run (the same for the same run), except
/// ``translationNanoseconds``: host time, measured only when the accelerator was given a clock
/// (``JITAccelerator/translationClock``), never seen by the guest.
public struct JITStatistics: Sendable, Equatable {
    /// Blocks translated (again after a buffer reset or a code change counts again).
    public var blocksTranslated = 0
    /// Bytes of guest code those blocks cover.
    public var guestBytesTranslated = 0
    /// Bytes of x86-64 code emitted for them (over every buffer reset).
    public var codeBytesEmitted = 0
    /// Bytes of the code buffer in use now, and its size.
    public var codeBytesInUse = 0
    public var codeBufferCapacity = 0
    /// Host memory of the block table, its per-slot counters and the jump-target cache.
    public var tableBytes = 0
    /// Times the code buffer was emptied (full, or for a new register allocation).
    public var bufferResets = 0
    /// Times the guest registers kept in host registers were chosen anew.
    public var allocationChanges = 0
    /// Block exits patched into direct jumps.
    public var chainsPatched = 0
    /// Times the interpreter ran one instruction for the loop: one the translator does not
    /// handle (CSRs, atomics, floating point, system instructions), a fetch or access the TLBs
    /// do not hold, a device access.
    public var singleInstructions = 0
    /// Stretches of code not yet run often enough to translate that the interpreter ran.
    public var coldStretches = 0
    /// Host time spent translating, in nanoseconds (nil: no clock was given).
    public var translationNanoseconds: UInt64?

    public init() {}
}
