/// Address translation: Sv39 page-table walks, the translation context, TLB maintenance.
///
/// Choices the privileged spec leaves open (documented in docs/design.md):
/// - A and D bits are set by the walker (as QEMU does), never by a page fault. The PTE update is
///   an ordinary RAM store, so decoded code and dirty tracking see it.
/// - No ASIDs (ASIDLEN = 0): `satp.ASID` reads as zero, so every address-space switch flushes.
/// - PMP is not enforced; PTE bits 63:54 (Svpbmt, Svnapot) are reserved and fault when set, as do
///   D, A and U in a pointer (non-leaf) PTE.
extension Hart {
    /// The kind of access being translated.
    enum Access {
        case read, write, execute

        var pageFault: ExceptionCause {
            switch self {
            case .read: .loadPageFault
            case .write: .storePageFault
            case .execute: .instructionPageFault
            }
        }

        var accessFault: ExceptionCause {
            switch self {
            case .read: .loadAccessFault
            case .write: .storeAccessFault
            case .execute: .instructionAccessFault
            }
        }
    }

    enum Translation {
        case physical(UInt64)
        case fault(ExceptionCause)
    }

    static let pteValid: UInt64 = 1 << 0
    static let pteRead: UInt64 = 1 << 1
    static let pteWrite: UInt64 = 1 << 2
    static let pteExecute: UInt64 = 1 << 3
    static let pteUser: UInt64 = 1 << 4
    static let pteAccessed: UInt64 = 1 << 6
    static let pteDirty: UInt64 = 1 << 7
    static let ppnMask: UInt64 = (1 << 44) - 1
    static let satpModeSv39: UInt64 = 8

    /// The privilege level data accesses are checked at (MPRV lets M-mode borrow MPP's).
    @inline(__always) var dataPrivilege: PrivilegeLevel {
        let s = state.pointee
        if s.privilege == .machine && s.mstatus & MStatus.mprv != 0 {
            return PrivilegeLevel(rawValue: UInt8((s.mstatus & MStatus.mpp) >> MStatus.mppShift)) ?? .user
        }
        return s.privilege
    }

    /// Translates a virtual address. With `updatePTE` false (debuggers, tracing) the walk has no
    /// side effect: A/D bits are neither set nor required.
    func translate(_ address: UInt64, _ access: Access, updatePTE: Bool = true) -> Translation {
        let s = state.pointee
        let privilege = access == .execute ? s.privilege : dataPrivilege
        if privilege == .machine || s.satp >> 60 != Hart.satpModeSv39 { return .physical(address) }

        // Bits 63:39 must all equal bit 38.
        guard UInt64(bitPattern: Int64(bitPattern: address << 25) >> 25) == address else {
            return .fault(access.pageFault)
        }
        var table = (s.satp & Hart.ppnMask) << 12
        var level = 2
        while true {
            let index = (address >> (12 + 9 * UInt64(level))) & 0x1FF
            let pteAddress = table &+ index &* 8
            guard memory.contains(pteAddress, count: 8) else { return .fault(access.accessFault) }
            let pte = memory.loadValue(offset: pteAddress - memory.base, size: 8)
            if pte & Hart.pteValid == 0 || (pte & Hart.pteRead == 0 && pte & Hart.pteWrite != 0) || pte >> 54 != 0 {
                return .fault(access.pageFault)
            }
            let ppn = (pte >> 10) & Hart.ppnMask
            if pte & (Hart.pteRead | Hart.pteExecute) == 0 {
                // A pointer to the next level. Its D, A and U bits are reserved: set, they fault.
                guard level > 0, pte & (Hart.pteDirty | Hart.pteAccessed | Hart.pteUser) == 0 else {
                    return .fault(access.pageFault)
                }
                level -= 1
                table = ppn << 12
                continue
            }
            // A leaf: permissions for the privilege level, then the access type.
            let userPage = pte & Hart.pteUser != 0
            switch privilege {
            case .user: if !userPage { return .fault(access.pageFault) }
            case .supervisor:
                if userPage && (access == .execute || s.mstatus & MStatus.sum == 0) { return .fault(access.pageFault) }
            case .machine: break
            }
            switch access {
            case .execute: if pte & Hart.pteExecute == 0 { return .fault(access.pageFault) }
            case .read:
                let readable = pte & Hart.pteRead != 0 || (pte & Hart.pteExecute != 0 && s.mstatus & MStatus.mxr != 0)
                if !readable { return .fault(access.pageFault) }
            case .write: if pte & Hart.pteWrite == 0 { return .fault(access.pageFault) }
            }
            let levelMask: UInt64 = (1 << (9 * UInt64(level))) - 1
            if ppn & levelMask != 0 { return .fault(access.pageFault) }   // misaligned superpage
            if updatePTE {
                var updated = pte | Hart.pteAccessed
                if access == .write { updated |= Hart.pteDirty }
                if updated != pte { memory.storeValue(offset: pteAddress - memory.base, size: 8, value: updated) }
            }
            let physicalPage = ppn | ((address >> 12) & levelMask)
            return .physical(physicalPage << 12 | (address & 0xFFF))
        }
    }

    // MARK: TLB maintenance

    /// Forgets every cached translation, as `sfence.vma` with no arguments does (for a host
    /// serving remote fences, e.g. SBI RFENCE). Takes effect from the next instruction.
    public func flushTranslationCache() {
        flushTLB()
    }

    /// Drops every TLB entry, and those kept for other privilege levels (sfence.vma, and
    /// whenever the translation context changes in a way ``TLBContexts`` does not follow).
    func flushTLB() {
        tlbContexts.dropAll()
        tlb.flushAll()
        state.pointee.fetchTLBEpoch &+= 1
        state.pointee.tlbFlagEpoch = memory.flagEpoch
    }

    /// Brings the TLBs up to date if anything that translation depends on changed since they
    /// were filled: privilege, satp, MPRV/MPP, SUM, MXR, or the RAM page flags. Call after any
    /// such change.
    @inline(__always) func syncTranslationContext() {
        let s = state.pointee
        let relevant = MStatus.mprv | MStatus.sum | MStatus.mxr | MStatus.mpp
        let key = (s.mstatus & relevant) | UInt64(s.privilege.rawValue)
        if key != s.tlbStatusKey || s.satp != s.tlbSatp {
            changeTranslationContext(to: key)
        } else if s.tlbFlagEpoch != memory.flagEpoch {
            tlb.flushWrites()
            state.pointee.tlbFlagEpoch = memory.flagEpoch
        }
    }

    /// Follows a change of the translation context (``TLBContexts``): a change of privilege
    /// alone swaps in the entering level's TLBs, SUM turned on keeps them, SUM turned off drops
    /// what was filled while it was on; anything else (satp, MPRV, MPP, MXR, or privilege and
    /// SUM together) flushes everything.
    @inline(never)
    func changeTranslationContext(to key: UInt64) {
        let s = state.pointee
        let old = s.tlbStatusKey
        state.pointee.tlbStatusKey = key
        state.pointee.tlbSatp = s.satp
        // (A restored state sets the old key to ~0: unknown, so flushed.)
        guard s.satp == s.tlbSatp, old != ~0 else { flushTLB(); return }
        let changed = old ^ key
        let privilegeBits: UInt64 = 3   // the key's low bits: the privilege level's raw value
        if changed == MStatus.sum {
            if key & MStatus.sum == 0 { tlbContexts.dropFills(tlb) }
            return
        }
        guard changed & ~privilegeBits == 0, key & MStatus.sum == 0 else { flushTLB(); return }
        state.pointee.fetchTLBEpoch &+= 1
        let epoch = tlbContexts.switchLevel(tlb, leaving: Int(old & privilegeBits), entering: Int(key & privilegeBits),
                                            flagEpoch: s.tlbFlagEpoch)
        state.pointee.tlbFlagEpoch = epoch ?? memory.flagEpoch
        noteFlagChanges()
    }

    /// Remembers where a translated page lives, if it is RAM (and, for writes, has no flags).
    @inline(__always) func fillTLB(_ table: UnsafeMutablePointer<TLBEntry>, virtual: UInt64, physical: UInt64) {
        let ramOffset = physical &- memory.base
        guard ramOffset < memory.size else { return }
        let isWrite = table == tlb.write
        if isWrite && memory.pageFlags[Int(ramOffset >> 12)] != 0 { return }
        let page = virtual & ~0xFFF
        let hostPage = UInt64(UInt(bitPattern: memory.bytes)) &+ (ramOffset & ~0xFFF)
        let index = TLB.index(virtual)
        table[index] = TLBEntry(tag: page, hostDelta: hostPage &- page)
        if state.pointee.tlbStatusKey & MStatus.sum != 0 && table != tlb.fetch {
            tlbContexts.recordFill(table: isWrite ? 1 : 0, index: index)
        }
    }

    // MARK: Fetch

    /// Translates a fetch from `address` (the instruction at `pc` starts there or 2 bytes before),
    /// returning its RAM offset. On a fault the trap has been entered for the instruction at `pc`
    /// with tval `address`, and `nil` is returned (the new pc is in `state.pc`).
    @inline(never)
    func fetchTranslate(_ address: UInt64, pc: UInt64) -> UInt64? {
        let entry = tlb.fetch[TLB.index(address)]
        if entry.tag == address & ~0xFFF { return address &+ entry.hostDelta &- UInt64(UInt(bitPattern: memory.bytes)) }
        switch translate(address, .execute) {
        case .fault(let cause):
            state.pointee.pc = enterTrap(cause: cause.rawValue, value: address, pc: pc)
            return nil
        case .physical(let physical):
            guard memory.contains(physical, count: 2) else {
                state.pointee.pc = enterTrap(cause: ExceptionCause.instructionAccessFault.rawValue, value: address, pc: pc)
                return nil
            }
            fillTLB(tlb.fetch, virtual: address, physical: physical)
            state.pointee.fetchTLBEpoch &+= 1
            return physical &- memory.base
        }
    }

    /// The upper half of a 32-bit instruction at `pc` that starts in the last parcel of a page;
    /// `nil` after entering the fault trap (tval is the upper half's address, the page a handler must map).
    @inline(never)
    func fetchUpperHalf(_ pc: UInt64) -> UInt16? {
        guard let offset = fetchTranslate(pc &+ 2, pc: pc) else { return nil }
        return memory.bytes.load(fromByteOffset: Int(offset), as: UInt16.self)
    }

    // MARK: Data slow paths

    /// Loads for `op` (one of the integer load operations) at a virtual address: misses, device
    /// registers, misaligned accesses. `nil` means a trap was entered (new pc in `state.pc`).
    @inline(never)
    func loadSlow(address: UInt64, op: Op, pc: UInt64) -> UInt64? {
        let size: Int
        switch op {
        case .lb, .lbu: size = 1
        case .lh, .lhu: size = 2
        case .lw, .lwu: size = 4
        default: size = 8
        }
        guard let raw = loadVirtual(address: address, size: size, pc: pc) else { return nil }
        switch op {
        case .lb: return UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: raw)))
        case .lh: return UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: raw)))
        case .lw: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: raw)))
        default: return raw
        }
    }

    /// A zero-extended load of 1, 2, 4 or 8 bytes at a virtual address; `nil` after entering a trap.
    func loadVirtual(address: UInt64, size: Int, pc: UInt64) -> UInt64? {
        let last = address &+ UInt64(size - 1)
        if address >> 12 == last >> 12 {
            switch translate(address, .read) {
            case .fault(let cause):
                state.pointee.pc = enterTrap(cause: cause.rawValue, value: address, pc: pc)
                return nil
            case .physical(let physical):
                fillTLB(tlb.read, virtual: address, physical: physical)
                guard let value = loadPhysical(address: physical, size: size) else {
                    state.pointee.pc = enterTrap(cause: ExceptionCause.loadAccessFault.rawValue, value: address, pc: pc)
                    return nil
                }
                return value
            }
        }
        // Misaligned across a page boundary: byte by byte, each page translated on its own.
        var value: UInt64 = 0
        for i in 0..<size {
            let byteAddress = address &+ UInt64(i)
            guard let byte = loadVirtual(address: byteAddress, size: 1, pc: pc) else { return nil }
            value |= byte << (8 * UInt64(i))
        }
        return value
    }

    /// A zero-extended physical load of 1, 2, 4 or 8 bytes from RAM or a device; `nil` is an access fault.
    func loadPhysical(address: UInt64, size: Int) -> UInt64? {
        if memory.contains(address, count: UInt64(size)) {
            return memory.loadValue(offset: address - memory.base, size: size)
        }
        if memory.contains(address, count: 1) { return nil }   // runs past the end of RAM
        return bus.load(physicalAddress: address, size: size)
    }

    enum StoreOutcome {
        /// A trap was entered; the new pc is in `state.pc`.
        case trapped
        case ram
        /// A device register (or a watched RAM word) was written: interrupts may have changed.
        case device
    }

    /// Stores the low `size` bytes of `value` at a virtual address: misses, flagged pages, device
    /// registers, misaligned accesses.
    @inline(never)
    func storeSlow(address: UInt64, size: Int, value: UInt64, pc: UInt64) -> StoreOutcome {
        let last = address &+ UInt64(size - 1)
        if address >> 12 == last >> 12 {
            switch translate(address, .write) {
            case .fault(let cause):
                state.pointee.pc = enterTrap(cause: cause.rawValue, value: address, pc: pc)
                return .trapped
            case .physical(let physical):
                fillTLB(tlb.write, virtual: address, physical: physical)
                switch storePhysical(address: physical, size: size, value: value) {
                case nil:
                    state.pointee.pc = enterTrap(cause: ExceptionCause.storeAccessFault.rawValue, value: address, pc: pc)
                    return .trapped
                case true?: return .device
                case false?: return .ram
                }
            }
        }
        // Misaligned across a page boundary: translate both pages before writing anything, so a
        // fault on the second page leaves memory untouched.
        let secondPage = (address | 0xFFF) &+ 1
        var physicalFirst: UInt64 = 0, physicalSecond: UInt64 = 0
        for (virtual, slot) in [(address, 0), (secondPage, 1)] {
            switch translate(virtual, .write) {
            case .fault(let cause):
                state.pointee.pc = enterTrap(cause: cause.rawValue, value: virtual, pc: pc)
                return .trapped
            case .physical(let physical):
                if slot == 0 { physicalFirst = physical } else { physicalSecond = physical }
            }
        }
        var outcome = StoreOutcome.ram
        for i in 0..<size {
            let byteAddress = address &+ UInt64(i)
            let physical = byteAddress < secondPage ? physicalFirst &+ UInt64(i) : physicalSecond &+ (byteAddress &- secondPage)
            switch storePhysical(address: physical, size: 1, value: value >> (8 * UInt64(i))) {
            case nil:
                state.pointee.pc = enterTrap(cause: ExceptionCause.storeAccessFault.rawValue, value: byteAddress, pc: pc)
                return .trapped
            case true?: outcome = .device
            case false?: break
            }
        }
        return outcome
    }

    /// A physical store to RAM or a device: `nil` is an access fault, `true` means a device
    /// register or a watched word was written.
    func storePhysical(address: UInt64, size: Int, value: UInt64) -> Bool? {
        if memory.contains(address, count: UInt64(size)) {
            return memory.storeValue(offset: address - memory.base, size: size, value: value)
        }
        if memory.contains(address, count: 1) { return nil }
        return bus.store(physicalAddress: address, size: size, value: value) ? true : nil
    }
}
