/// One RV64GC hart (RV64IMAFDC + Zicsr + Zifencei + Zicntr, M/S/U privilege levels).
///
/// The hart executes from ``GuestMemory`` through a cache of decoded instructions and reaches
/// everything else through a ``SystemBus``. It never reads host time or randomness: guest time
/// is `instructionCount / instructionsPerTick + timeOffset`, and only the owner of the hart
/// (the machine) moves `timeOffset`, so execution is a pure function of state and inputs.
///
/// Virtual memory is Sv39 (or Bare), with software TLBs in front of every access (see ``TLB``).
public final class Hart {
    /// Why ``run(until:)`` returned.
    public enum StopReason: Equatable, Sendable {
        /// The instruction count reached the limit.
        case limit
        /// A device asked the hart to stop (for example power-off).
        case stopRequested
        /// The hart executed WFI and no enabled interrupt is pending.
        case waitingForInterrupt
    }


    // The registers, the TLBs and the rest of the state are one allocation (see
    // ``Hart/tlbByteOffset``). Sound: allocated in init, deallocated in deinit, never escapes;
    // single-threaded use.
    @usableFromInline let state: UnsafeMutablePointer<HartState>
    /// x0...x31 followed by the sink register; the start of the hart's block.
    @usableFromInline let x: UnsafeMutablePointer<UInt64>
    /// f0...f31 as raw 64-bit patterns (single precision values NaN-boxed); part of the same
    /// allocation as `x`, at `x + Hart.floatOffset`, so the executor keeps one pointer live.
    @usableFromInline let f: UnsafeMutablePointer<UInt64>
    @usableFromInline static let floatOffset = 40
    /// Where the TLBs and the ``HartState`` lie in the hart's block, in bytes from `x`. The
    /// fast loop derives both pointers from `x` with these constants, so that LLVM folds them
    /// into the addressing of each access, and one host register reaches registers, TLBs and
    /// state: two registers more for the loop's own values (fewer spills and register moves in
    /// the handlers, see docs/benchmarks.md).
    @usableFromInline static let tlbByteOffset = (floatOffset + 32) * MemoryLayout<UInt64>.stride
    @usableFromInline static let stateByteOffset = tlbByteOffset + 3 * TLB.entries * MemoryLayout<TLBEntry>.stride
    static let blockBytes = stateByteOffset + MemoryLayout<HartState>.stride
    public let memory: GuestMemory
    public let bus: any SystemBus
    /// The software TLBs, in the hart's block.
    @usableFromInline let tlb: TLB
    /// What keeps TLB entries across changes of privilege and SUM (see ``TLBContexts``).
    let tlbContexts = TLBContexts()
    /// The scratch page: slots for one code page, all `.refetch` except (while in use) the one of
    /// an instruction that must run outside its page's slots: a 32-bit instruction straddling two
    /// pages (never cached), or the first half of a fused pair that must run alone. Running it at
    /// its own page offset keeps pc = codeBase + 2 * (ip - pageSlots) true, and every way out of
    /// it leads to a page lookup. Sound: allocated in init, deallocated in deinit.
    @usableFromInline let scratchSlots: UnsafeMutablePointer<DecodedInstruction> = {
        let slots = UnsafeMutablePointer<DecodedInstruction>.allocate(capacity: GuestMemory.allocatedSlotsPerPage)
        slots.initialize(repeating: DecodedInstruction(op: .refetch), count: GuestMemory.allocatedSlotsPerPage)
        return slots
    }()
    /// One slot of ``Op/undecoded``: the fast loop's way out when its budget check stops it (see
    /// ``LoopExit``). Sound: allocated in init, deallocated in deinit.
    @usableFromInline let stopSlot: UnsafeMutablePointer<DecodedInstruction> = {
        let slot = UnsafeMutablePointer<DecodedInstruction>.allocate(capacity: 1)
        slot.initialize(to: DecodedInstruction(op: .undecoded))
        return slot
    }()
    /// Called for an `ecall` from S-mode that is not delegated, before it would trap to M-mode.
    /// Returning true completes the call like an instruction (the host served it, e.g. SBI);
    /// returning false lets the trap happen. The handler may read and write registers.
    public var supervisorCallHandler: ((Hart) -> Bool)?
    /// Runs ``run(until:)`` in place of the interpreter when set (a binary translator, see
    /// ``HartAccelerator``); ``step()`` and everything else stay the interpreter. Not machine
    /// state: a hart gives the same results with or without one.
    public var accelerator: (any HartAccelerator)?
    /// Physical memory protection registers: kept (WARL) but not enforced.
    var pmpcfg = [UInt64](repeating: 0, count: 16)
    var pmpaddr = [UInt64](repeating: 0, count: 64)

    /// misa: RV64 with A, C, D, F, I, M, S, U.
    public static let isa: UInt64 = (2 << 62) | [UInt8]("ACDFIMSU".utf8).reduce(0) { $0 | (1 << UInt64($1 - 65)) }

    public init(memory: GuestMemory, bus: any SystemBus) {
        self.memory = memory
        self.bus = bus
        // Sound: each part is bound to its own type over its own range of the block; the
        // offsets are multiples of the parts' alignments (checked below).
        let block = UnsafeMutableRawPointer.allocate(byteCount: Hart.blockBytes, alignment: 64)
        precondition(Hart.tlbByteOffset % MemoryLayout<TLBEntry>.alignment == 0
                     && Hart.stateByteOffset % MemoryLayout<HartState>.alignment == 0)
        x = block.bindMemory(to: UInt64.self, capacity: Hart.floatOffset + 32)
        x.initialize(repeating: 0, count: Hart.floatOffset + 32)
        f = x + Hart.floatOffset
        tlb = TLB(storage: (block + Hart.tlbByteOffset).bindMemory(to: TLBEntry.self, capacity: 3 * TLB.entries))
        state = (block + Hart.stateByteOffset).bindMemory(to: HartState.self, capacity: 1)
        state.initialize(to: HartState())
        state.pointee.misa = Hart.isa
    }

    deinit {
        // x, the TLBs and state are parts of one block (all trivial types: nothing to deinitialise).
        UnsafeMutableRawPointer(x).deallocate()
        scratchSlots.deallocate()
        stopSlot.deallocate()
    }

    // MARK: Architectural state

    public var pc: UInt64 {
        get { state.pointee.pc }
        set { state.pointee.pc = newValue }
    }

    /// Instructions retired since reset: the clock of determinism.
    public var instructionCount: UInt64 { state.pointee.instret }

    /// The current privilege level. Setting it is for loaders (a kernel starts in S-mode).
    public var privilege: PrivilegeLevel {
        get { state.pointee.privilege }
        set { state.pointee.privilege = newValue; syncTranslationContext() }
    }

    /// Writes a CSR as the machine's firmware would (no privilege check), e.g. to set up
    /// delegation before starting a kernel. Returns false if the hart has no such CSR.
    @discardableResult
    public func firmwareWriteCSR(_ number: UInt16, _ value: UInt64) -> Bool {
        let saved = state.pointee.privilege
        state.pointee.privilege = .machine
        let result = writeCSR(number, value, count: state.pointee.instret)
        state.pointee.privilege = saved
        syncTranslationContext()
        return result != nil
    }

    /// Routes the timer to STIP instead of MTIP (SBI TIME served by the host).
    public var timerIsSupervisor: Bool {
        get { state.pointee.timerIsSupervisor }
        set { state.pointee.timerIsSupervisor = newValue }
    }

    /// Drops write-TLB entries if RAM page flags changed since they were filled.
    @inline(__always) func noteFlagChanges() {
        if state.pointee.tlbFlagEpoch != memory.flagEpoch {
            tlb.flushWrites()
            state.pointee.tlbFlagEpoch = memory.flagEpoch
        }
    }

    /// Integer register `index` (0...31).
    public func register(_ index: Int) -> UInt64 { index == 0 ? 0 : x[index] }
    public func setRegister(_ index: Int, _ value: UInt64) { if index != 0 { x[index] = value } }
    /// Floating-point register `index` (0...31) as its raw 64-bit pattern.
    public func floatRegister(_ index: Int) -> UInt64 { f[index] }
    public func setFloatRegister(_ index: Int, _ value: UInt64) { f[index] = value }

    // MARK: Time and interrupts

    /// Instructions per tick of guest time (`mtime`). Set before running; part of the machine configuration.
    public var instructionsPerTick: UInt64 {
        get { state.pointee.instructionsPerTick }
        set { precondition(newValue > 0); state.pointee.instructionsPerTick = newValue }
    }

    /// Guest time (mtime and the `time` CSR).
    public var time: UInt64 { time(at: state.pointee.instret) }

    @inline(__always) func time(at count: UInt64) -> UInt64 {
        count / state.pointee.instructionsPerTick &+ state.pointee.timeOffset
    }

    /// Sets guest time to `value` from now on (the CLINT's mtime register is writable).
    public func setTime(_ value: UInt64) {
        state.pointee.timeOffset = value &- state.pointee.instret / state.pointee.instructionsPerTick
    }

    /// Moves guest time forward without executing instructions (deterministic WFI skip, time events).
    public func advanceTime(by ticks: UInt64) { state.pointee.timeOffset &+= ticks }

    /// The machine timer compare register (CLINT mtimecmp).
    public var timerCompare: UInt64 {
        get { state.pointee.timerCompare }
        set { state.pointee.timerCompare = newValue }
    }

    /// Ticks until the machine timer fires, if it is armed and enabled in `mie`.
    public var ticksUntilTimerInterrupt: UInt64? {
        let timerBit = state.pointee.timerIsSupervisor ? InterruptCause.supervisorTimer.mask : InterruptCause.machineTimer.mask
        guard state.pointee.mie & timerBit != 0 else { return nil }
        let now = time
        let compare = state.pointee.timerCompare
        if compare == .max { return nil }
        return compare > now ? compare - now : 0
    }

    /// Instruction count at which the machine timer becomes pending (`.max` if never).
    @inline(__always) func timerDeadline() -> UInt64 {
        let s = state.pointee
        if s.timerCompare <= s.timeOffset { return 0 }
        let (product, overflow) = (s.timerCompare - s.timeOffset).multipliedReportingOverflow(by: s.instructionsPerTick)
        return overflow ? .max : product
    }

    /// Raises or lowers a device-driven interrupt line (MSIP from the CLINT, MEIP/SEIP from the
    /// PLIC), or the software bit SSIP (an SBI IPI).
    public func setInterruptPending(_ cause: InterruptCause, _ pending: Bool) {
        if cause == .supervisorSoftware {
            // A software interrupt bit: the guest clears it by writing sip/mip.
            if pending { state.pointee.mip |= cause.mask } else { state.pointee.mip &= ~cause.mask }
        } else if pending {
            state.pointee.interruptLines |= cause.mask
        } else {
            state.pointee.interruptLines &= ~cause.mask
        }
    }

    /// mip as software sees it: stored bits plus MTIP (or STIP, see ``timerIsSupervisor``)
    /// derived from the timer.
    @inline(__always) func effectiveMIP(at count: UInt64) -> UInt64 {
        var mip = state.pointee.mip | state.pointee.interruptLines
        if time(at: count) >= state.pointee.timerCompare {
            mip |= state.pointee.timerIsSupervisor ? InterruptCause.supervisorTimer.mask : InterruptCause.machineTimer.mask
        }
        return mip
    }

    /// Asks ``run(until:)`` to return at the next instruction boundary.
    public func requestStop() { state.pointee.stopRequested = true }

    // MARK: Traps

    /// The interrupt to take now, if any, following the priority order MEI, MSI, MTI, SEI, SSI, STI.
    @inline(__always) func interruptToTake(at count: UInt64) -> UInt64? {
        let s = state.pointee
        let pending = effectiveMIP(at: count) & s.mie
        if pending == 0 { return nil }
        let machineEnabled = s.privilege != .machine || s.mstatus & MStatus.mie != 0
        let supervisorEnabled = s.privilege == .user || (s.privilege == .supervisor && s.mstatus & MStatus.sie != 0)
        var candidates: UInt64 = 0
        if machineEnabled { candidates |= pending & ~s.mideleg }
        if supervisorEnabled { candidates |= pending & s.mideleg }
        if candidates == 0 { return nil }
        for cause: InterruptCause in [.machineExternal, .machineSoftware, .machineTimer,
                                      .supervisorExternal, .supervisorSoftware, .supervisorTimer]
        where candidates & cause.mask != 0 {
            return cause.rawValue | (1 << 63)
        }
        return nil
    }

    /// Enters the trap handler for `cause` (bit 63 set for interrupts) taken at `pc`; returns the new pc.
    @inline(never)
    func enterTrap(cause: UInt64, value: UInt64, pc: UInt64) -> UInt64 {
        let s = state
        let isInterrupt = cause >> 63 == 1
        let code = cause & ~(1 << 63)
        let delegation = isInterrupt ? s.pointee.mideleg : s.pointee.medeleg
        s.pointee.reservationValid = false
        s.pointee.waiting = false
        if s.pointee.privilege != .machine && (delegation >> code) & 1 == 1 {
            s.pointee.sepc = pc
            s.pointee.scause = cause
            s.pointee.stval = value
            var status = s.pointee.mstatus
            status = (status & ~MStatus.spie) | ((status & MStatus.sie) << 4)
            status &= ~MStatus.sie
            status = (status & ~MStatus.spp) | (s.pointee.privilege == .supervisor ? MStatus.spp : 0)
            s.pointee.mstatus = status
            s.pointee.privilege = .supervisor
            syncTranslationContext()
            let base = s.pointee.stvec & ~3
            return (isInterrupt && s.pointee.stvec & 3 == 1) ? base &+ 4 &* code : base
        }
        s.pointee.mepc = pc
        s.pointee.mcause = cause
        s.pointee.mtval = value
        var status = s.pointee.mstatus
        status = (status & ~MStatus.mpie) | ((status & MStatus.mie) << 4)
        status &= ~MStatus.mie
        status = (status & ~MStatus.mpp) | (UInt64(s.pointee.privilege.rawValue) << MStatus.mppShift)
        s.pointee.mstatus = status
        s.pointee.privilege = .machine
        syncTranslationContext()
        let base = s.pointee.mtvec & ~3
        return (isInterrupt && s.pointee.mtvec & 3 == 1) ? base &+ 4 &* code : base
    }

    /// MRET: returns the new pc.
    func returnFromMachineTrap() -> UInt64 {
        let s = state
        var status = s.pointee.mstatus
        let previous = PrivilegeLevel(rawValue: UInt8((status & MStatus.mpp) >> MStatus.mppShift)) ?? .user
        status = (status & ~MStatus.mie) | ((status & MStatus.mpie) >> 4)
        status |= MStatus.mpie
        status &= ~MStatus.mpp    // MPP becomes U (the least-privileged supported mode)
        if previous != .machine { status &= ~MStatus.mprv }
        s.pointee.mstatus = status
        s.pointee.privilege = previous
        syncTranslationContext()
        return s.pointee.mepc
    }

    /// SRET: returns the new pc.
    func returnFromSupervisorTrap() -> UInt64 {
        let s = state
        var status = s.pointee.mstatus
        let previous: PrivilegeLevel = status & MStatus.spp != 0 ? .supervisor : .user
        status = (status & ~MStatus.sie) | ((status & MStatus.spie) >> 4)
        status |= MStatus.spie
        status &= ~MStatus.spp
        status &= ~MStatus.mprv
        s.pointee.mstatus = status
        s.pointee.privilege = previous
        syncTranslationContext()
        return s.pointee.sepc
    }

    /// Reads a CSR as a debugger would (no privilege check); nil if the hart has no such CSR.
    public func debugReadCSR(_ number: UInt16) -> UInt64? {
        let saved = state.pointee.privilege
        state.pointee.privilege = .machine
        defer { state.pointee.privilege = saved }
        if number >= 0x001 && number <= 0x003 && state.pointee.mstatus & MStatus.fs == 0 {
            return nil
        }
        return readCSR(number, count: state.pointee.instret)
    }

    // MARK: Fetch for tools

    /// The raw bits of the instruction at a virtual address as the hart would fetch it now (16-bit
    /// forms in the low half), or nil if it cannot be fetched. Has no side effects (no A bits set).
    public func instructionBits(at address: UInt64) -> UInt32? {
        func parcel(_ virtual: UInt64) -> UInt32? {
            guard case .physical(let physical) = translate(virtual, .execute, updatePTE: false),
                  memory.contains(physical, count: 2) else { return nil }
            return UInt32(memory.loadValue(offset: physical - memory.base, size: 2))
        }
        guard let low = parcel(address) else { return nil }
        if low & 3 != 3 { return low }
        guard let high = parcel(address &+ 2) else { return nil }
        return low | high << 16
    }
}
