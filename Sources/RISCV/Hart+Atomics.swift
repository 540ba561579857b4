/// The A extension: LR/SC and AMOs.
///
/// All of them require natural alignment; a misaligned address raises an address-misaligned
/// exception (LR: load, SC/AMO: store/AMO), they translate like loads (LR) or stores (SC, AMOs,
/// which need write permission and set D), and they work only on RAM (devices give an access
/// fault). SC succeeds when it targets the reserved address and memory still holds the value
/// LR read; the reservation is dropped by SC and by any trap.
extension Hart {
    /// Executes an atomic; returns the exception to raise, if any.
    @inline(never)
    func executeAtomic(_ d: DecodedInstruction) -> (ExceptionCause, UInt64)? {
        let s = state
        let word: Bool
        switch d.op {
        case .lrW, .scW, .amoswapW, .amoaddW, .amoxorW, .amoandW, .amoorW, .amominW, .amomaxW, .amominuW, .amomaxuW:
            word = true
        default:
            word = false
        }
        let size: UInt64 = word ? 4 : 8
        let address = x[Int(d.rs1)]
        let isLoad = d.op == .lrW || d.op == .lrD
        guard address & (size - 1) == 0 else {
            return (isLoad ? .loadAddressMisaligned : .storeAddressMisaligned, address)
        }
        // The TLB first, as for loads (LR) and stores (SC, AMOs): a hit is a RAM page this
        // context may access that way (a write entry: writable, dirty, no page flags, so the
        // store needs no bookkeeping either).
        let entry = isLoad ? TLB.readEntry(x, address) : TLB.writeEntry(x, address)
        let offset: UInt64
        if entry.tag == address & ~0xFFF {
            offset = address &+ entry.hostDelta &- UInt64(UInt(bitPattern: memory.bytes))
        } else {
            let physical: UInt64
            switch translate(address, isLoad ? .read : .write) {
            case .fault(let cause): return (cause, address)
            case .physical(let p): physical = p
            }
            guard memory.contains(physical, count: size) else {
                return (isLoad ? .loadAccessFault : .storeAccessFault, address)
            }
            fillTLB(isLoad ? tlb.read : tlb.write, virtual: address, physical: physical)
            offset = physical - memory.base
        }
        let raw = memory.loadValue(offset: offset, size: Int(size))
        let old = word ? signExtend32(UInt32(truncatingIfNeeded: raw)) : raw
        let rd = Int(d.rd)
        if isLoad {
            s.pointee.reservationValid = true
            s.pointee.reservationAddress = address
            s.pointee.reservationValue = old
            x[rd] = old
            return nil
        }
        let operand = x[Int(d.rs2)]
        if d.op == .scW || d.op == .scD {
            let success = s.pointee.reservationValid && s.pointee.reservationAddress == address && s.pointee.reservationValue == old
            s.pointee.reservationValid = false
            if success { memory.storeValue(offset: offset, size: Int(size), value: operand) }
            x[rd] = success ? 0 : 1
            return nil
        }
        let new: UInt64
        if word {
            let a = UInt32(truncatingIfNeeded: old), b = UInt32(truncatingIfNeeded: operand)
            let r: UInt32
            switch d.op {
            case .amoswapW: r = b
            case .amoaddW: r = a &+ b
            case .amoxorW: r = a ^ b
            case .amoandW: r = a & b
            case .amoorW: r = a | b
            case .amominW: r = Int32(bitPattern: a) < Int32(bitPattern: b) ? a : b
            case .amomaxW: r = Int32(bitPattern: a) > Int32(bitPattern: b) ? a : b
            case .amominuW: r = min(a, b)
            default: r = max(a, b)
            }
            new = UInt64(r)
        } else {
            let a = old, b = operand
            switch d.op {
            case .amoswapD: new = b
            case .amoaddD: new = a &+ b
            case .amoxorD: new = a ^ b
            case .amoandD: new = a & b
            case .amoorD: new = a | b
            case .amominD: new = Int64(bitPattern: a) < Int64(bitPattern: b) ? a : b
            case .amomaxD: new = Int64(bitPattern: a) > Int64(bitPattern: b) ? a : b
            case .amominuD: new = min(a, b)
            default: new = max(a, b)
            }
        }
        memory.storeValue(offset: offset, size: Int(size), value: new)
        x[rd] = old
        return nil
    }
}
