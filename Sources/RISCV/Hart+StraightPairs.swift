/// The bodies of the fused pairs that run straight on (see ``Fusion``): two ALU instructions, two
/// loads or stores, and the skips. Each pair has one operation per length in slots (2, 3 or 4:
/// the two instructions' bytes over 2), so that its handler in the fast loop steps `ip` by a
/// constant. Read from the slot instead, the next `ip` would wait for a load and four ALU
/// operations, and a run of pairs (as in a bitwise CRC loop) would be bound by that chain.
extension Hart {
    /// `srli` then `slliw`: the second's rd and rs1 in `rs3` and `rm`, its shift in `imm` bits 48-63.
    @inline(__always)
    static func srliSlliw(_ x: UnsafeMutablePointer<UInt64>, _ d: UnsafeMutablePointer<DecodedInstruction>,
                          _ rd: Int, _ rs1: Int, _ imm: UInt64) {
        x[rd] = x[rs1] >> (imm & 63)
        // Shifted in 64 bits, then cut: with a 32-bit load and shift LLVM's code for this pair ran
        // 2.5 times slower in a run of pairs on this host (no cause found; see docs/benchmarks.md).
        x[Int(d.pointee.rs3)] = signExtend32(UInt32(truncatingIfNeeded: x[Int(d.pointee.rm)] << ((imm >> 48) & 31)))
    }

    /// `slli` then an addw-family instruction: the second's rd, rs1, rs2 in `rs3`, `rm`,
    /// `condition`, its immediate in `imm` bits 48-63.
    @inline(__always)
    static func slliAddw(_ x: UnsafeMutablePointer<UInt64>, _ d: UnsafeMutablePointer<DecodedInstruction>,
                         _ rd: Int, _ rs1: Int, _ imm: UInt64) {
        x[rd] = x[rs1] << (imm & 63)
        let second = x[Int(d.pointee.rm)] &+ x[Int(d.pointee.condition)] &+ UInt64(bitPattern: Int64(bitPattern: imm) >> 48)
        x[Int(d.pointee.rs3)] = signExtend32(UInt32(truncatingIfNeeded: second))
    }

    /// Two `ld` from one base register in one page: false (and nothing done) unless both hit the
    /// read TLB. The second's rd in `rs3`, its offset in `imm` bits 48-63.
    @inline(__always)
    static func ldLd(_ x: UnsafeMutablePointer<UInt64>, _ d: UnsafeMutablePointer<DecodedInstruction>,
                     _ rd: Int, _ rs1: Int, _ imm: UInt64) -> Bool {
        let first = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
        let second = x[rs1] &+ UInt64(bitPattern: Int64(bitPattern: imm) >> 48)
        let entry = TLB.readEntry(x, first)
        guard entry.tag == first & ~0xFF8, entry.tag == second & ~0xFF8 else { return false }
        x[rd] = hostLoad64(first &+ entry.hostDelta)
        x[Int(d.pointee.rs3)] = hostLoad64(second &+ entry.hostDelta)
        return true
    }

    /// Two `lw` from one base register in one page, as ``ldLd(_:_:_:_:_:)``.
    @inline(__always)
    static func lwLw(_ x: UnsafeMutablePointer<UInt64>, _ d: UnsafeMutablePointer<DecodedInstruction>,
                     _ rd: Int, _ rs1: Int, _ imm: UInt64) -> Bool {
        let first = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
        let second = x[rs1] &+ UInt64(bitPattern: Int64(bitPattern: imm) >> 48)
        let entry = TLB.readEntry(x, first)
        guard entry.tag == first & ~0xFFC, entry.tag == second & ~0xFFC else { return false }
        x[rd] = hostLoad32Signed(first &+ entry.hostDelta)
        x[Int(d.pointee.rs3)] = hostLoad32Signed(second &+ entry.hostDelta)
        return true
    }

    /// Two `sd` to one base register in one page: false (and nothing stored) unless both hit the
    /// write TLB. The second's value register in `rm`, its offset in `imm` bits 48-63.
    @inline(__always)
    static func sdSd(_ x: UnsafeMutablePointer<UInt64>, _ d: UnsafeMutablePointer<DecodedInstruction>,
                     _ rs1: Int, _ rs2: Int, _ imm: UInt64) -> Bool {
        let first = x[rs1] &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
        let second = x[rs1] &+ UInt64(bitPattern: Int64(bitPattern: imm) >> 48)
        let entry = TLB.writeEntry(x, first)
        guard entry.tag == first & ~0xFF8, entry.tag == second & ~0xFF8 else { return false }
        hostStore64(first &+ entry.hostDelta, x[rs2])
        hostStore64(second &+ entry.hostDelta, x[Int(d.pointee.rm)])
        return true
    }

    /// A conditional branch over one add-family (`xor` false) or xor-family instruction, run
    /// without a host branch (which would follow the data, as in a CRC, and be mispredicted): if
    /// the branch is taken, the skipped result goes to the sink register instead of `rd`. The
    /// branch compares `rs1` and `rs2` (less-than if `lessThan`); the skipped instruction's
    /// sources are in `rs3`, `rm` and `imm` bits 0-31. Returns how many instructions retired.
    @inline(__always)
    static func skip(_ x: UnsafeMutablePointer<UInt64>, _ d: UnsafeMutablePointer<DecodedInstruction>,
                     _ rd: Int, _ rs1: Int, _ rs2: Int, _ imm: UInt64, lessThan: Bool, xor: Bool) -> Int {
        let low = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: imm)))
        let taken = lessThan ? pairLess(x[rs1], x[rs2], d.pointee.condition) : pairEqual(x[rs1], x[rs2], d.pointee.condition)
        let value = xor ? x[Int(d.pointee.rs3)] ^ (x[Int(d.pointee.rm)] | low) : x[Int(d.pointee.rs3)] &+ x[Int(d.pointee.rm)] &+ low
        x[taken ? Int(Decoder.sink) : rd] = value
        return taken ? 1 : 2
    }
}
