/// Memory accesses the executor's fast path does not handle: device registers, accesses that
/// run past the end of RAM, and stores into pages with bookkeeping flags.
extension Hart {
    enum StoreOutcome {
        case fault
        case ram
        case device
    }

    /// Loads for `op` (one of the integer load operations); `nil` means an access fault.
    @inline(never)
    func loadSlow(address: UInt64, op: Op) -> UInt64? {
        let size: Int
        switch op {
        case .lb, .lbu: size = 1
        case .lh, .lhu: size = 2
        case .lw, .lwu: size = 4
        default: size = 8
        }
        guard let raw = loadPhysical(address: address, size: size) else { return nil }
        switch op {
        case .lb: return UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: raw)))
        case .lh: return UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: raw)))
        case .lw: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: raw)))
        default: return raw
        }
    }

    /// A zero-extended physical load of 1, 2, 4 or 8 bytes from RAM or a device.
    func loadPhysical(address: UInt64, size: Int) -> UInt64? {
        if memory.contains(address, count: UInt64(size)) {
            return memory.loadValue(offset: address - memory.base, size: size)
        }
        if memory.contains(address, count: 1) { return nil }   // runs past the end of RAM
        return bus.load(physicalAddress: address, size: size)
    }

    @inline(never)
    func storeSlow(address: UInt64, size: Int, value: UInt64) -> StoreOutcome {
        if memory.contains(address, count: UInt64(size)) {
            // A watched word (HTIF tohost) acts like a device register.
            return memory.storeValue(offset: address - memory.base, size: size, value: value) ? .device : .ram
        }
        if memory.contains(address, count: 1) { return .fault }
        return bus.store(physicalAddress: address, size: size, value: value) ? .device : .fault
    }
}
