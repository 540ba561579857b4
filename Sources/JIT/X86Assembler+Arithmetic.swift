extension X86Assembler {
    /// `op dst, src` between registers, for `add`, `or`, `adc`, `sbb`, `and`, `sub`, `xor`, `cmp`.
    public mutating func arithmetic(_ operation: X86ArithmeticOperation, _ size: X86OperandSize,
                                    _ destination: X86Register, _ source: X86Register) {
        startInstruction()
        emit(size: size, opcode: Self.sized(operation.rawValue << 3, size), reg: source.rawValue,
             rm: .register(destination), forceREX: Self.byteNeedsREX(size, destination, source))
    }

    /// `op dst, [mem]`.
    public mutating func arithmetic(_ operation: X86ArithmeticOperation, _ size: X86OperandSize,
                                    _ destination: X86Register, _ source: X86Memory) {
        startInstruction()
        emit(size: size, opcode: Self.sized(operation.rawValue << 3 | 2, size), reg: destination.rawValue,
             rm: .memory(source), forceREX: Self.byteNeedsREX(size, destination))
    }

    /// `op [mem], src`.
    public mutating func arithmetic(_ operation: X86ArithmeticOperation, _ size: X86OperandSize,
                                    _ destination: X86Memory, _ source: X86Register) {
        startInstruction()
        emit(size: size, opcode: Self.sized(operation.rawValue << 3, size), reg: source.rawValue,
             rm: .memory(destination), forceREX: Self.byteNeedsREX(size, source))
    }

    /// `op dst, imm`: the sign-extended 8-bit form (83) when the immediate fits it, else the short
    /// accumulator form for `al`/`ax`/`eax`/`rax`, else 80/81. A `qword` operation sign-extends
    /// its 32-bit immediate; `byte` and `word` take one that fits them, signed or unsigned.
    public mutating func arithmetic(_ operation: X86ArithmeticOperation, _ size: X86OperandSize,
                                    _ destination: X86Register, imm immediate: Int32) {
        let value = Int64(immediate)
        Self.checkImmediate(value, fits: size)
        guard destination == .rax && !Self.fitsSignExtendedByte(value, size) else {
            immediateGroup(operation.rawValue, size, .register(destination), value,
                           forceREX: Self.byteNeedsREX(size, destination))
            return
        }
        startInstruction()
        prefixes(size: size)
        byte(Self.sized(operation.rawValue << 3 | 4, size))
        littleEndian(value, count: Self.fullImmediateCount(size))
    }

    /// `op [mem], imm` (80/81/83, as for registers).
    public mutating func arithmetic(_ operation: X86ArithmeticOperation, _ size: X86OperandSize,
                                    _ destination: X86Memory, imm immediate: Int32) {
        Self.checkImmediate(Int64(immediate), fits: size)
        immediateGroup(operation.rawValue, size, .memory(destination), Int64(immediate), forceREX: false)
    }

    /// `test a, b`: the flags of `a & b` (84/85).
    public mutating func test(_ size: X86OperandSize, _ first: X86Register, _ second: X86Register) {
        startInstruction()
        emit(size: size, opcode: Self.sized(0x84, size), reg: second.rawValue, rm: .register(first),
             forceREX: Self.byteNeedsREX(size, first, second))
    }

    /// `test reg, imm`: A8/A9 for the accumulator, else F6/F7 /0. `test` has no 8-bit
    /// sign-extended form: the immediate is full size (32 bits, sign-extended, for `qword`).
    public mutating func test(_ size: X86OperandSize, _ register: X86Register, imm immediate: Int32) {
        Self.checkImmediate(Int64(immediate), fits: size)
        startInstruction()
        if register == .rax {
            prefixes(size: size)
            byte(Self.sized(0xA8, size))
        } else {
            emit(size: size, opcode: Self.sized(0xF6, size), reg: 0, rm: .register(register),
                 forceREX: Self.byteNeedsREX(size, register))
        }
        littleEndian(Int64(immediate), count: Self.fullImmediateCount(size))
    }

    /// `neg reg`: two's complement negation (F6/F7 /3).
    public mutating func neg(_ size: X86OperandSize, _ register: X86Register) {
        group3(3, size, register)
    }

    /// `not reg`: one's complement (F6/F7 /2); no flags change.
    public mutating func not(_ size: X86OperandSize, _ register: X86Register) {
        group3(2, size, register)
    }

    /// `op r/m, imm` in the 80/81/83 group: 83 with a sign-extended imm8 where it fits.
    private mutating func immediateGroup(_ digit: UInt8, _ size: X86OperandSize, _ destination: RegisterOrMemory,
                                         _ immediate: Int64, forceREX: Bool) {
        startInstruction()
        let short = Self.fitsSignExtendedByte(immediate, size)
        emit(size: size, opcode: short ? 0x83 : Self.sized(0x80, size), reg: digit, rm: destination, forceREX: forceREX)
        littleEndian(immediate, count: short ? 1 : Self.fullImmediateCount(size))
    }

    /// One instruction of the F6/F7 group (`not`, `neg`, `mul`, `imul`, `div`, `idiv`) on a register.
    mutating func group3(_ digit: UInt8, _ size: X86OperandSize, _ register: X86Register) {
        startInstruction()
        emit(size: size, opcode: Self.sized(0xF6, size), reg: digit, rm: .register(register),
             forceREX: Self.byteNeedsREX(size, register))
    }
}
