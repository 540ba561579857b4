/// Everything about a hart that determines what it does next: the program counter, the
/// instruction count, the privilege level, every CSR, the register files, the LR/SC reservation,
/// the timer and the interrupt lines. A value copy, for snapshots (``Hart/exportState()``,
/// ``Hart/importState(_:)``).
///
/// Caches are not part of it (the TLBs, the decoded-instruction slots): they are rebuilt from this
/// state and RAM. Neither is the host's wiring (``Hart/supervisorCallHandler``, the bus).
public struct HartArchitecturalState: Equatable, Sendable {
    public var pc: UInt64 = 0
    /// Instructions retired since reset (the clock of determinism).
    public var instructionCount: UInt64 = 0
    public var privilege: PrivilegeLevel = .machine

    // Machine-mode CSRs.
    public var mstatus: UInt64 = MStatus.xl64
    public var misa: UInt64 = Hart.isa
    public var mie: UInt64 = 0
    /// Pending bits software wrote (SSIP, STIP, SEIP) or an SBI IPI raised.
    public var mip: UInt64 = 0
    /// Interrupt lines driven by devices (MSIP, MEIP, SEIP); see ``Hart/setInterruptPending(_:_:)``.
    public var interruptLines: UInt64 = 0
    public var mtvec: UInt64 = 0
    public var mscratch: UInt64 = 0
    public var mepc: UInt64 = 0
    public var mcause: UInt64 = 0
    public var mtval: UInt64 = 0
    public var medeleg: UInt64 = 0
    public var mideleg: UInt64 = 0
    public var mcounteren: UInt64 = 0
    public var mcountinhibit: UInt64 = 0
    public var menvcfg: UInt64 = 0

    // Supervisor-mode CSRs (sstatus, sie and sip are views of the machine registers).
    public var stvec: UInt64 = 0
    public var sscratch: UInt64 = 0
    public var sepc: UInt64 = 0
    public var scause: UInt64 = 0
    public var stval: UInt64 = 0
    public var satp: UInt64 = 0
    public var scounteren: UInt64 = 0
    public var senvcfg: UInt64 = 0
    /// Guest-visible minstret minus ``instructionCount``.
    public var instretDelta: UInt64 = 0
    /// Guest-visible mcycle minus ``instructionCount``.
    public var cycleDelta: UInt64 = 0

    // Floating point.
    /// Accrued exception flags (5 bits).
    public var fflags: UInt32 = 0
    /// Dynamic rounding mode (3 bits).
    public var frm: UInt32 = 0

    // LR/SC reservation: the address LR used and the value it read.
    public var reservationValid = false
    public var reservationAddress: UInt64 = 0
    public var reservationValue: UInt64 = 0

    // Timer: time = instructionCount / instructionsPerTick + timeOffset.
    public var instructionsPerTick: UInt64 = 50
    public var timeOffset: UInt64 = 0
    public var timerCompare: UInt64 = .max
    /// The timer raises STIP instead of MTIP (SBI TIME served by the host).
    public var timerIsSupervisor = false

    /// The hart executed WFI and waits for an interrupt.
    public var waiting = false

    /// x0...x31 (x0 is always 0).
    public var x = [UInt64](repeating: 0, count: 32)
    /// f0...f31 as raw 64-bit patterns.
    public var f = [UInt64](repeating: 0, count: 32)
    /// pmpcfg0...pmpcfg15 (only the even ones exist on RV64; the odd ones stay 0).
    public var pmpcfg = [UInt64](repeating: 0, count: Hart.pmpConfigurationCount)
    /// pmpaddr0...pmpaddr63.
    public var pmpaddr = [UInt64](repeating: 0, count: Hart.pmpAddressCount)

    /// The state of a hart after reset.
    public init() {}
}

extension Hart {
    /// Number of pmpcfg registers kept (pmpcfg0...15).
    public static let pmpConfigurationCount = 16
    /// Number of pmpaddr registers kept (pmpaddr0...63).
    public static let pmpAddressCount = 64

    /// A copy of the hart's architectural state. Call it while the hart is not running.
    public func exportState() -> HartArchitecturalState {
        let s = state.pointee
        var a = HartArchitecturalState()
        a.pc = s.pc
        a.instructionCount = s.instret
        a.privilege = s.privilege
        a.mstatus = s.mstatus
        a.misa = s.misa
        a.mie = s.mie
        a.mip = s.mip
        a.interruptLines = s.interruptLines
        a.mtvec = s.mtvec
        a.mscratch = s.mscratch
        a.mepc = s.mepc
        a.mcause = s.mcause
        a.mtval = s.mtval
        a.medeleg = s.medeleg
        a.mideleg = s.mideleg
        a.mcounteren = s.mcounteren
        a.mcountinhibit = s.mcountinhibit
        a.menvcfg = s.menvcfg
        a.stvec = s.stvec
        a.sscratch = s.sscratch
        a.sepc = s.sepc
        a.scause = s.scause
        a.stval = s.stval
        a.satp = s.satp
        a.scounteren = s.scounteren
        a.senvcfg = s.senvcfg
        a.instretDelta = s.instretDelta
        a.cycleDelta = s.cycleDelta
        a.fflags = s.fflags
        a.frm = s.frm
        a.reservationValid = s.reservationValid
        a.reservationAddress = s.reservationAddress
        a.reservationValue = s.reservationValue
        a.instructionsPerTick = s.instructionsPerTick
        a.timeOffset = s.timeOffset
        a.timerCompare = s.timerCompare
        a.timerIsSupervisor = s.timerIsSupervisor
        a.waiting = s.waiting
        a.x = (0..<32).map { register($0) }
        a.f = (0..<32).map { f[$0] }
        a.pmpcfg = pmpcfg
        a.pmpaddr = pmpaddr
        return a
    }

    /// Replaces the hart's architectural state (a restore). Call it while the hart is not running.
    ///
    /// The TLBs are flushed and the translation context recomputed; the next ``run(until:)``
    /// looks its code page up again (every run starts from a `.refetch` slot). Decoded
    /// instructions are cached per physical page and kept coherent with RAM by every RAM write,
    /// so they stay valid. fflags and frm are cut to their widths (5 and 3 bits); x0 stays 0.
    /// A pending stop request is dropped.
    public func importState(_ a: HartArchitecturalState) {
        precondition(a.x.count == 32 && a.f.count == 32, "a hart has 32 integer and 32 floating-point registers")
        precondition(a.pmpcfg.count == Hart.pmpConfigurationCount && a.pmpaddr.count == Hart.pmpAddressCount,
                     "a hart has 16 pmpcfg and 64 pmpaddr registers")
        precondition(a.instructionsPerTick > 0, "instructionsPerTick must be positive")
        var s = HartState()
        s.pc = a.pc
        s.instret = a.instructionCount
        s.privilege = a.privilege
        s.mstatus = a.mstatus
        s.misa = a.misa
        s.mie = a.mie
        s.mip = a.mip
        s.interruptLines = a.interruptLines
        s.mtvec = a.mtvec
        s.mscratch = a.mscratch
        s.mepc = a.mepc
        s.mcause = a.mcause
        s.mtval = a.mtval
        s.medeleg = a.medeleg
        s.mideleg = a.mideleg
        s.mcounteren = a.mcounteren
        s.mcountinhibit = a.mcountinhibit
        s.menvcfg = a.menvcfg
        s.stvec = a.stvec
        s.sscratch = a.sscratch
        s.sepc = a.sepc
        s.scause = a.scause
        s.stval = a.stval
        s.satp = a.satp
        s.scounteren = a.scounteren
        s.senvcfg = a.senvcfg
        s.instretDelta = a.instretDelta
        s.cycleDelta = a.cycleDelta
        s.fflags = a.fflags & 0x1F
        s.frm = a.frm & 7
        s.reservationValid = a.reservationValid
        s.reservationAddress = a.reservationAddress
        s.reservationValue = a.reservationValue
        s.instructionsPerTick = a.instructionsPerTick
        s.timeOffset = a.timeOffset
        s.timerCompare = a.timerCompare
        s.timerIsSupervisor = a.timerIsSupervisor
        s.waiting = a.waiting
        // The translation context is unknown: the first sync flushes everything.
        s.tlbStatusKey = ~0
        state.pointee = s
        for i in 0..<32 {
            x[i] = i == 0 ? 0 : a.x[i]
            f[i] = a.f[i]
        }
        pmpcfg = a.pmpcfg
        pmpaddr = a.pmpaddr
        flushTLB()
        syncTranslationContext()
    }
}
