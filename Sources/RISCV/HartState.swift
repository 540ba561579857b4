/// The architectural state of one hart except the register files, kept in one plain struct
/// behind a pointer so the executor reaches it without exclusivity checks or reference counting.
@usableFromInline
struct HartState {
    @usableFromInline var pc: UInt64 = 0
    /// Instructions retired since reset: the clock of determinism. Never written by the guest.
    @usableFromInline var instret: UInt64 = 0
    @usableFromInline var privilege: PrivilegeLevel = .machine

    // Machine-mode CSRs.
    @usableFromInline var mstatus: UInt64 = MStatus.xl64
    @usableFromInline var misa: UInt64 = 0
    @usableFromInline var mie: UInt64 = 0
    /// Pending bits software wrote (SSIP, STIP, SEIP) or that an SBI IPI raised (SSIP).
    @usableFromInline var mip: UInt64 = 0
    /// Interrupt lines driven by devices (MSIP from the CLINT, MEIP/SEIP from the PLIC). Kept
    /// apart from `mip` so that software writing mip.SEIP cannot lose a device's SEIP; the timer
    /// bit is derived from the timer. mip reads as the OR of all three.
    @usableFromInline var interruptLines: UInt64 = 0
    @usableFromInline var mtvec: UInt64 = 0
    @usableFromInline var mscratch: UInt64 = 0
    @usableFromInline var mepc: UInt64 = 0
    @usableFromInline var mcause: UInt64 = 0
    @usableFromInline var mtval: UInt64 = 0
    @usableFromInline var medeleg: UInt64 = 0
    @usableFromInline var mideleg: UInt64 = 0
    @usableFromInline var mcounteren: UInt64 = 0
    @usableFromInline var mcountinhibit: UInt64 = 0
    @usableFromInline var menvcfg: UInt64 = 0

    // Supervisor-mode CSRs (sstatus, sie and sip are views of the machine registers).
    @usableFromInline var stvec: UInt64 = 0
    @usableFromInline var sscratch: UInt64 = 0
    @usableFromInline var sepc: UInt64 = 0
    @usableFromInline var scause: UInt64 = 0
    @usableFromInline var stval: UInt64 = 0
    @usableFromInline var satp: UInt64 = 0
    @usableFromInline var scounteren: UInt64 = 0
    @usableFromInline var senvcfg: UInt64 = 0
    /// Guest-visible minstret/mcycle minus ``instret``: written by the guest, so the clock stays intact.
    @usableFromInline var instretDelta: UInt64 = 0
    @usableFromInline var cycleDelta: UInt64 = 0

    // Floating point.
    @usableFromInline var fflags: UInt32 = 0
    @usableFromInline var frm: UInt32 = 0

    // LR/SC reservation (address and the value LR read; see Hart+Atomics).
    @usableFromInline var reservationValid: Bool = false
    @usableFromInline var reservationAddress: UInt64 = 0
    @usableFromInline var reservationValue: UInt64 = 0

    // Timer: guest time is a function of the instruction count plus an offset that only
    // deterministic decisions (WFI skips, later: time events) change.
    @usableFromInline var instructionsPerTick: UInt64 = 50
    @usableFromInline var timeOffset: UInt64 = 0
    @usableFromInline var timerCompare: UInt64 = .max

    /// When true the timer (time >= timerCompare) raises STIP instead of MTIP: the SBI TIME
    /// extension served by the host, where no M-mode software forwards the interrupt.
    @usableFromInline var timerIsSupervisor: Bool = false

    // What the TLB contents were computed under (see Hart.syncTranslationContext).
    @usableFromInline var tlbStatusKey: UInt64 = ~0
    @usableFromInline var tlbSatp: UInt64 = 0
    @usableFromInline var tlbFlagEpoch: UInt64 = 0
    /// Moves whenever the fetch TLB changes (an entry filled, every entry flushed), so that a
    /// translator's cached jump targets, found through the fetch TLB, know to look again. Not
    /// architectural state.
    @usableFromInline var fetchTLBEpoch: UInt64 = 0

    /// Set by devices (power off) to make the executor return at the next instruction boundary.
    @usableFromInline var stopRequested: Bool = false
    /// The hart executed WFI and waits for an interrupt.
    @usableFromInline var waiting: Bool = false
    /// The slot of ``Hart/scratchSlots`` last given an instruction (reset to `.refetch` by the
    /// next page lookup). Not architectural state.
    @usableFromInline var scratchIndex: UInt16 = 0
    /// While the executor runs a code page: its RAM offset minus its virtual address (set on
    /// every page lookup). Not architectural state.
    @usableFromInline var codeDelta: UInt64 = 0
    /// While `Hart.runFast` runs: the virtual address of its page's first slot (see
    /// ``ExecutionPoint/codeBase``). Not architectural state.
    @usableFromInline var loopCodeBase: UInt64 = 0
    /// Where `Hart.runFast` stopped when its budget check sent it to the stop slot (see
    /// ``LoopExit``). Not architectural state.
    @usableFromInline var loopResume: UnsafeMutablePointer<DecodedInstruction>?
    /// While `Hart.runFast` runs: the memory's page of `.refetch` slots, where a jump to another
    /// page goes (kept here, not in a register, see Hart+FastLoop.swift). Not architectural state.
    @usableFromInline var loopRefetchSlots: UnsafeMutablePointer<DecodedInstruction>?
}
