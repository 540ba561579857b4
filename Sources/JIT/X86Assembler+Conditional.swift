extension X86Assembler {
    /// `setcc reg8`: 1 in the low byte of `register` if `condition` holds, else 0; the rest of
    /// the register is unchanged (0F 90+cc).
    public mutating func set(_ condition: X86Condition, _ register: X86Register) {
        startInstruction()
        emit(size: nil, escaped: true, opcode: 0x90 + condition.rawValue, reg: 0, rm: .register(register),
             forceREX: register.byteFormNeedsREX)
    }

    /// `setcc reg8` then `movzx reg32, reg8`: the whole register becomes 1 or 0 (two instructions).
    public mutating func set(_ condition: X86Condition, zeroExtendingInto register: X86Register) {
        set(condition, register)
        movzx(.dword, register, .byte, register)
    }

    /// `cmovcc dst, src`: copies `source` into `destination` if `condition` holds (0F 40+cc);
    /// `word`, `dword` or `qword`. A 32-bit cmov clears the upper half even when it does not move.
    public mutating func cmov(_ condition: X86Condition, _ size: X86OperandSize, _ destination: X86Register, _ source: X86Register) {
        conditionalMove(condition, size, destination, .register(source))
    }

    /// `cmovcc dst, [mem]`. The load happens (and can fault) whether or not the condition holds.
    public mutating func cmov(_ condition: X86Condition, _ size: X86OperandSize, _ destination: X86Register, _ source: X86Memory) {
        conditionalMove(condition, size, destination, .memory(source))
    }

    private mutating func conditionalMove(_ condition: X86Condition, _ size: X86OperandSize, _ destination: X86Register,
                                          _ source: RegisterOrMemory) {
        precondition(size != .byte, "cmov has no 8-bit form")
        startInstruction()
        emit(size: size, escaped: true, opcode: 0x40 + condition.rawValue, reg: destination.rawValue, rm: source)
    }
}
