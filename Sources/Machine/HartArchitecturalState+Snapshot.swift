import RISCV

extension HartArchitecturalState {
    /// The 64-bit fields in the order they are written.
    private static var wordFields: [WritableKeyPath<HartArchitecturalState, UInt64>] { [
        \.pc, \.instructionCount,
        \.mstatus, \.misa, \.mie, \.mip, \.interruptLines, \.mtvec, \.mscratch, \.mepc, \.mcause, \.mtval,
        \.medeleg, \.mideleg, \.mcounteren, \.mcountinhibit, \.menvcfg,
        \.stvec, \.sscratch, \.sepc, \.scause, \.stval, \.satp, \.scounteren, \.senvcfg,
        \.instretDelta, \.cycleDelta,
        \.reservationAddress, \.reservationValue,
        \.instructionsPerTick, \.timeOffset, \.timerCompare,
    ] }

    private static let wordNames = [
        "pc", "instruction count",
        "mstatus", "misa", "mie", "mip", "interrupt lines", "mtvec", "mscratch", "mepc", "mcause", "mtval",
        "medeleg", "mideleg", "mcounteren", "mcountinhibit", "menvcfg",
        "stvec", "sscratch", "sepc", "scause", "stval", "satp", "scounteren", "senvcfg",
        "minstret delta", "mcycle delta",
        "reservation address", "reservation value",
        "instructions per tick", "time offset", "timer compare",
    ]

    /// Writes every field (little-endian; see docs/snapshots.md for the layout).
    public func save(to writer: inout StateWriter) {
        for field in Self.wordFields { writer.writeUInt64(self[keyPath: field]) }
        writer.writeUInt8(privilege.rawValue)
        writer.writeUInt8(UInt8(truncatingIfNeeded: fflags))
        writer.writeUInt8(UInt8(truncatingIfNeeded: frm))
        writer.writeBool(reservationValid)
        writer.writeBool(timerIsSupervisor)
        writer.writeBool(waiting)
        for value in x { writer.writeUInt64(value) }
        for value in f { writer.writeUInt64(value) }
        for value in pmpcfg { writer.writeUInt64(value) }
        for value in pmpaddr { writer.writeUInt64(value) }
    }

    /// Reads what ``save(to:)`` wrote, checking every field that has illegal values.
    public init(from reader: inout StateReader) throws(SnapshotError) {
        self.init()
        for (field, name) in zip(Self.wordFields, Self.wordNames) {
            self[keyPath: field] = try reader.readUInt64("hart \(name)")
        }
        guard instructionsPerTick > 0 else { throw reader.invalid("hart instructions per tick is 0") }
        let level = try reader.readUInt8("hart privilege level")
        guard let privilege = PrivilegeLevel(rawValue: level) else {
            throw reader.invalid("hart privilege level is \(level), expected 0 (U), 1 (S) or 3 (M)")
        }
        self.privilege = privilege
        let flags = try reader.readUInt8("hart fflags")
        guard flags <= 0x1F else { throw reader.invalid("hart fflags is 0x\(String(flags, radix: 16)), only 5 bits exist") }
        fflags = UInt32(flags)
        let rounding = try reader.readUInt8("hart frm")
        guard rounding <= 7 else { throw reader.invalid("hart frm is \(rounding), only 3 bits exist") }
        frm = UInt32(rounding)
        reservationValid = try reader.readBool("hart reservation flag")
        timerIsSupervisor = try reader.readBool("hart supervisor-timer flag")
        waiting = try reader.readBool("hart waiting flag")
        for i in 0..<32 {
            x[i] = try reader.readUInt64("hart x\(i)")
            if i == 0 && x[0] != 0 { throw reader.invalid("hart x0 is 0x\(String(x[0], radix: 16)), it is always 0") }
        }
        for i in 0..<32 { f[i] = try reader.readUInt64("hart f\(i)") }
        for i in 0..<pmpcfg.count { pmpcfg[i] = try reader.readUInt64("hart pmpcfg\(i)") }
        for i in 0..<pmpaddr.count { pmpaddr[i] = try reader.readUInt64("hart pmpaddr\(i)") }
    }
}
