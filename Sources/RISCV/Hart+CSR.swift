/// Zicsr: the CSR instructions and the CSRs themselves.
extension Hart {
    enum CSROutcome {
        case illegal
        case done
        /// The write may change interrupt enablement, delegation or translation: re-check before the next instruction.
        case changedControl
    }

    static let mstatusWritable: UInt64 = MStatus.sie | MStatus.mie | MStatus.spie | MStatus.mpie | MStatus.spp
        | MStatus.mpp | MStatus.fs | MStatus.mprv | MStatus.sum | MStatus.mxr | MStatus.tvm | MStatus.tw | MStatus.tsr
    static let sstatusMask: UInt64 = MStatus.sie | MStatus.spie | MStatus.spp | MStatus.fs | MStatus.sum | MStatus.mxr
        | (3 << 32) | MStatus.sd
    static let supervisorInterrupts: UInt64 = InterruptCause.supervisorSoftware.mask
        | InterruptCause.supervisorTimer.mask | InterruptCause.supervisorExternal.mask
    static let allInterrupts: UInt64 = supervisorInterrupts | InterruptCause.machineSoftware.mask
        | InterruptCause.machineTimer.mask | InterruptCause.machineExternal.mask
    /// Exceptions that may be delegated to S-mode (all but environment call from M).
    static let delegableExceptions: UInt64 = 0xB3FF

    @inline(never)
    func executeCSR(_ d: DecodedInstruction, count: UInt64) -> CSROutcome {
        let csr = UInt16(truncatingIfNeeded: d.imm)
        let immediateForm = d.op == .csrrwi || d.op == .csrrsi || d.op == .csrrci
        let operand = immediateForm ? UInt64(d.rs1) : x[Int(d.rs1)]
        let isWrite = d.op == .csrrw || d.op == .csrrwi || d.rs1 != 0

        // Privilege and read-only checks (the CSR number encodes both).
        if UInt8((csr >> 8) & 3) > state.pointee.privilege.rawValue { return .illegal }
        if isWrite && csr >> 10 == 3 { return .illegal }

        // Reads have no side effects here, so reading even when rd is x0 is unobservable.
        guard let old = readCSR(csr, count: count) else { return .illegal }
        if isWrite {
            let new: UInt64
            switch d.op {
            case .csrrw, .csrrwi: new = operand
            case .csrrs, .csrrsi: new = old | operand
            default: new = old & ~operand
            }
            guard let outcome = writeCSR(csr, new, count: count) else { return .illegal }
            x[Int(d.rd)] = old
            return outcome
        }
        x[Int(d.rd)] = old
        return .done
    }

    /// Whether the counter `index` (0 cycle, 1 time, 2 instret, 3... hpm) may be read at the current privilege.
    func counterAccessible(_ index: UInt16) -> Bool {
        let bit = UInt64(1) << UInt64(index)
        switch state.pointee.privilege {
        case .machine: return true
        case .supervisor: return state.pointee.mcounteren & bit != 0
        case .user: return state.pointee.mcounteren & state.pointee.scounteren & bit != 0
        }
    }

    /// The value of a CSR, or nil if it does not exist (or is not accessible): an illegal instruction.
    func readCSR(_ csr: UInt16, count: UInt64) -> UInt64? {
        let s = state.pointee
        switch csr {
        case CSRAddress.fflags, CSRAddress.frm, CSRAddress.fcsr:
            guard s.mstatus & MStatus.fs != 0 else { return nil }
            if csr == CSRAddress.fflags { return UInt64(s.fflags) }
            if csr == CSRAddress.frm { return UInt64(s.frm) }
            return UInt64(s.frm << 5 | s.fflags)
        case CSRAddress.cycle:
            return counterAccessible(0) ? count &+ s.cycleDelta : nil
        case CSRAddress.time:
            return counterAccessible(1) ? time(at: count) : nil
        case CSRAddress.instret:
            return counterAccessible(2) ? count &+ s.instretDelta : nil
        case CSRAddress.hpmcounter3...CSRAddress.hpmcounter31:
            return counterAccessible(csr - CSRAddress.cycle) ? 0 : nil
        case CSRAddress.mvendorid, CSRAddress.marchid, CSRAddress.mimpid, CSRAddress.mhartid, CSRAddress.mconfigptr:
            return 0
        case CSRAddress.mstatus: return statusWithSD(s.mstatus)
        case CSRAddress.misa: return s.misa
        case CSRAddress.medeleg: return s.medeleg
        case CSRAddress.mideleg: return s.mideleg
        case CSRAddress.mie: return s.mie
        case CSRAddress.mtvec: return s.mtvec
        case CSRAddress.mcounteren: return s.mcounteren
        case CSRAddress.menvcfg: return s.menvcfg
        case CSRAddress.mcountinhibit: return s.mcountinhibit
        case CSRAddress.mhpmevent3...CSRAddress.mhpmevent31: return 0
        case CSRAddress.mscratch: return s.mscratch
        case CSRAddress.mepc: return s.mepc
        case CSRAddress.mcause: return s.mcause
        case CSRAddress.mtval: return s.mtval
        case CSRAddress.mip: return effectiveMIP(at: count)
        case CSRAddress.pmpcfg0...CSRAddress.pmpcfg15:
            let index = Int(csr - CSRAddress.pmpcfg0)
            return index & 1 == 0 ? pmpcfg[index] : nil   // odd pmpcfg registers do not exist on RV64
        case CSRAddress.pmpaddr0...CSRAddress.pmpaddr63: return pmpaddr[Int(csr - CSRAddress.pmpaddr0)]
        case CSRAddress.mcycle: return count &+ s.cycleDelta
        case CSRAddress.minstret: return count &+ s.instretDelta
        case CSRAddress.mhpmcounter3...CSRAddress.mhpmcounter31: return 0
        // Supervisor
        case SupervisorCSR.sstatus: return statusWithSD(s.mstatus) & Hart.sstatusMask
        case SupervisorCSR.sie: return s.mie & s.mideleg
        case SupervisorCSR.stvec: return s.stvec
        case SupervisorCSR.scounteren: return s.scounteren
        case SupervisorCSR.senvcfg: return s.senvcfg
        case SupervisorCSR.sscratch: return s.sscratch
        case SupervisorCSR.sepc: return s.sepc
        case SupervisorCSR.scause: return s.scause
        case SupervisorCSR.stval: return s.stval
        case SupervisorCSR.sip: return effectiveMIP(at: count) & s.mideleg
        case SupervisorCSR.satp:
            if s.privilege == .supervisor && s.mstatus & MStatus.tvm != 0 { return nil }
            return s.satp
        default:
            return nil
        }
    }

    @inline(__always) func statusWithSD(_ status: UInt64) -> UInt64 {
        status & MStatus.fs == MStatus.fsDirty ? status | MStatus.sd : status & ~MStatus.sd
    }

    /// Writes a CSR (WARL fields legalised); nil if the CSR cannot be written: an illegal instruction.
    func writeCSR(_ csr: UInt16, _ value: UInt64, count: UInt64) -> CSROutcome? {
        let s = state
        switch csr {
        case CSRAddress.fflags, CSRAddress.frm, CSRAddress.fcsr:
            guard s.pointee.mstatus & MStatus.fs != 0 else { return nil }
            if csr == CSRAddress.fflags || csr == CSRAddress.fcsr { s.pointee.fflags = UInt32(value & 0x1F) }
            if csr == CSRAddress.frm { s.pointee.frm = UInt32(value & 7) }
            if csr == CSRAddress.fcsr { s.pointee.frm = UInt32((value >> 5) & 7) }
            s.pointee.mstatus |= MStatus.fsDirty
            return .done
        case CSRAddress.mstatus:
            var new = (s.pointee.mstatus & ~Hart.mstatusWritable) | (value & Hart.mstatusWritable)
            if (new & MStatus.mpp) >> MStatus.mppShift == 2 {   // reserved: keep the previous MPP
                new = (new & ~MStatus.mpp) | (s.pointee.mstatus & MStatus.mpp)
            }
            s.pointee.mstatus = new & ~MStatus.sd
            syncTranslationContext()
        case CSRAddress.misa: break   // WARL: the extensions cannot be switched off
        case CSRAddress.medeleg: s.pointee.medeleg = value & Hart.delegableExceptions
        case CSRAddress.mideleg: s.pointee.mideleg = value & Hart.supervisorInterrupts
        case CSRAddress.mie: s.pointee.mie = value & Hart.allInterrupts
        case CSRAddress.mtvec: if value & 3 < 2 { s.pointee.mtvec = value }
        case CSRAddress.mcounteren: s.pointee.mcounteren = value & 0xFFFF_FFFF
        case CSRAddress.menvcfg: s.pointee.menvcfg = value & 1
        case CSRAddress.mcountinhibit: s.pointee.mcountinhibit = value & 0xFFFF_FFFD
        case CSRAddress.mhpmevent3...CSRAddress.mhpmevent31: break
        case CSRAddress.mscratch: s.pointee.mscratch = value; return .done
        case CSRAddress.mepc: s.pointee.mepc = value & ~1; return .done
        case CSRAddress.mcause: s.pointee.mcause = value; return .done
        case CSRAddress.mtval: s.pointee.mtval = value; return .done
        case CSRAddress.mip:
            let writable = Hart.supervisorInterrupts
            s.pointee.mip = (s.pointee.mip & ~writable) | (value & writable)
        case CSRAddress.pmpcfg0...CSRAddress.pmpcfg15:
            let index = Int(csr - CSRAddress.pmpcfg0)
            guard index & 1 == 0 else { return nil }
            pmpcfg[index] = value
            return .done
        case CSRAddress.pmpaddr0...CSRAddress.pmpaddr63:
            pmpaddr[Int(csr - CSRAddress.pmpaddr0)] = value & ((1 << 54) - 1)
            return .done
        // The guest may set the counters; the instruction clock itself never moves.
        // The written value is what the next instruction reads.
        case CSRAddress.mcycle: s.pointee.cycleDelta = value &- (count &+ 1); return .done
        case CSRAddress.minstret: s.pointee.instretDelta = value &- (count &+ 1); return .done
        case CSRAddress.mhpmcounter3...CSRAddress.mhpmcounter31: return .done
        // Supervisor
        case SupervisorCSR.sstatus:
            let mask = Hart.sstatusMask & Hart.mstatusWritable
            s.pointee.mstatus = (s.pointee.mstatus & ~mask) | (value & mask)
            syncTranslationContext()
        case SupervisorCSR.sie:
            let mask = s.pointee.mideleg
            s.pointee.mie = (s.pointee.mie & ~mask) | (value & mask)
        case SupervisorCSR.stvec: if value & 3 < 2 { s.pointee.stvec = value }
        case SupervisorCSR.scounteren: s.pointee.scounteren = value & 0xFFFF_FFFF
        case SupervisorCSR.senvcfg: s.pointee.senvcfg = value & 1
        case SupervisorCSR.sscratch: s.pointee.sscratch = value; return .done
        case SupervisorCSR.sepc: s.pointee.sepc = value & ~1; return .done
        case SupervisorCSR.scause: s.pointee.scause = value; return .done
        case SupervisorCSR.stval: s.pointee.stval = value; return .done
        case SupervisorCSR.sip:
            let mask = s.pointee.mideleg & InterruptCause.supervisorSoftware.mask
            s.pointee.mip = (s.pointee.mip & ~mask) | (value & mask)
        case SupervisorCSR.satp:
            if s.pointee.privilege == .supervisor && s.pointee.mstatus & MStatus.tvm != 0 { return nil }
            // Bare and Sv39 only; writing another mode has no effect (WARL). No ASIDs: ASID reads as 0.
            let mode = value >> 60
            if mode == 0 { s.pointee.satp = 0 }
            if mode == Hart.satpModeSv39 { s.pointee.satp = (Hart.satpModeSv39 << 60) | (value & Hart.ppnMask) }
            syncTranslationContext()
        default:
            // Read-only counters and ID registers were rejected by the caller's read-only check;
            // anything else that reads fine but is not listed above is read-only here.
            return readCSR(csr, count: count) == nil ? nil : .done
        }
        return .changedControl
    }
}

/// Supervisor CSR numbers.
enum SupervisorCSR {
    static let sstatus: UInt16 = 0x100
    static let sie: UInt16 = 0x104
    static let stvec: UInt16 = 0x105
    static let scounteren: UInt16 = 0x106
    static let senvcfg: UInt16 = 0x10A
    static let sscratch: UInt16 = 0x140
    static let sepc: UInt16 = 0x141
    static let scause: UInt16 = 0x142
    static let stval: UInt16 = 0x143
    static let sip: UInt16 = 0x144
    static let satp: UInt16 = 0x180
}
