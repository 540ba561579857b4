extension X86Assembler {
    /// `op reg, count` for the rotates and shifts: D0/D1 (the one-bit form GNU `as` uses for a
    /// count of 1), else C0/C1 with an 8-bit count.
    public mutating func shift(_ operation: X86ShiftOperation, _ size: X86OperandSize, _ register: X86Register, by count: UInt8) {
        startInstruction()
        emit(size: size, opcode: Self.sized(count == 1 ? 0xD0 : 0xC0, size), reg: operation.rawValue,
             rm: .register(register), forceREX: Self.byteNeedsREX(size, register))
        if count != 1 { byte(count) }
    }

    /// `op reg, cl`: the rotate or shift by the count in `cl` (D2/D3).
    public mutating func shiftByCL(_ operation: X86ShiftOperation, _ size: X86OperandSize, _ register: X86Register) {
        startInstruction()
        emit(size: size, opcode: Self.sized(0xD2, size), reg: operation.rawValue, rm: .register(register),
             forceREX: Self.byteNeedsREX(size, register))
    }
}
