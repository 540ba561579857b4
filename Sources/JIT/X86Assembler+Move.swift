extension X86Assembler {
    /// `mov dst, src` between registers (opcode 88/89: the "r/m, reg" form GNU `as` uses).
    public mutating func mov(_ size: X86OperandSize, _ destination: X86Register, _ source: X86Register) {
        startInstruction()
        emit(size: size, opcode: Self.sized(0x88, size), reg: source.rawValue, rm: .register(destination),
             forceREX: Self.byteNeedsREX(size, destination, source))
    }

    /// `mov dst, [mem]`: a load of `size` bytes (8/16-bit loads keep the rest of `destination`).
    public mutating func mov(_ size: X86OperandSize, _ destination: X86Register, _ source: X86Memory) {
        startInstruction()
        emit(size: size, opcode: Self.sized(0x8A, size), reg: destination.rawValue, rm: .memory(source),
             forceREX: Self.byteNeedsREX(size, destination))
    }

    /// `mov [mem], src`: a store of `size` bytes.
    public mutating func mov(_ size: X86OperandSize, _ destination: X86Memory, _ source: X86Register) {
        startInstruction()
        emit(size: size, opcode: Self.sized(0x88, size), reg: source.rawValue, rm: .memory(destination),
             forceREX: Self.byteNeedsREX(size, source))
    }

    /// `mov [mem], imm`: a store of an immediate (C6/C7 /0; a qword store sign-extends `immediate`).
    public mutating func mov(_ size: X86OperandSize, _ destination: X86Memory, imm immediate: Int32) {
        Self.checkImmediate(Int64(immediate), fits: size)
        startInstruction()
        emit(size: size, opcode: Self.sized(0xC6, size), reg: 0, rm: .memory(destination))
        littleEndian(Int64(immediate), count: Self.fullImmediateCount(size))
    }

    /// `mov dst, imm`. At `qword` size the shortest instruction that leaves `immediate` in the
    /// register: `mov r32, imm32` (5-6 bytes, the upper half is cleared) for 0...0xFFFF_FFFF, the
    /// sign-extended `mov r64, imm32` (7 bytes) for other values that fit 32 bits signed, else
    /// `movabs` (10 bytes). Smaller sizes take an immediate that fits them, signed or unsigned.
    /// Flags are untouched (no `xor` for zero).
    public mutating func mov(_ size: X86OperandSize, _ destination: X86Register, imm immediate: Int64) {
        if size == .qword {
            if UInt32(exactly: immediate) != nil {
                mov(.dword, destination, imm: immediate)
            } else if Int32(exactly: immediate) != nil {
                startInstruction()
                emit(size: .qword, opcode: 0xC7, reg: 0, rm: .register(destination))
                littleEndian(immediate, count: 4)
            } else {
                movabs(destination, imm: immediate)
            }
            return
        }
        Self.checkImmediate(immediate, fits: size)
        startInstruction()
        prefixes(size: size, base: destination, forceREX: Self.byteNeedsREX(size, destination))
        byte((size == .byte ? 0xB0 : 0xB8) + destination.low3)
        littleEndian(immediate, count: size.bytes)
    }

    /// `movabs dst, imm64` (REX.W B8+r): always the 10-byte form, whose 8-byte immediate ends the
    /// instruction and can be patched in place later.
    public mutating func movabs(_ destination: X86Register, imm immediate: Int64) {
        startInstruction()
        prefixes(size: .qword, base: destination)
        byte(0xB8 + destination.low3)
        littleEndian(immediate, count: 8)
    }

    /// `movzx dst, src`: zero-extends a `byte` or `word` register to `size` (0F B6/B7).
    /// (A 32-bit `mov` zero-extends 32 to 64 bits.)
    public mutating func movzx(_ size: X86OperandSize, _ destination: X86Register, _ sourceSize: X86OperandSize, _ source: X86Register) {
        extend(signed: false, size, destination, sourceSize, .register(source))
    }

    /// `movzx dst, [mem]`: a zero-extending load of a `byte` or `word`.
    public mutating func movzx(_ size: X86OperandSize, _ destination: X86Register, _ sourceSize: X86OperandSize, _ source: X86Memory) {
        extend(signed: false, size, destination, sourceSize, .memory(source))
    }

    /// `movsx dst, src`: sign-extends a `byte` or `word` register to `size` (0F BE/BF).
    public mutating func movsx(_ size: X86OperandSize, _ destination: X86Register, _ sourceSize: X86OperandSize, _ source: X86Register) {
        extend(signed: true, size, destination, sourceSize, .register(source))
    }

    /// `movsx dst, [mem]`: a sign-extending load of a `byte` or `word`.
    public mutating func movsx(_ size: X86OperandSize, _ destination: X86Register, _ sourceSize: X86OperandSize, _ source: X86Memory) {
        extend(signed: true, size, destination, sourceSize, .memory(source))
    }

    /// `movsxd dst64, src32`: sign-extends 32 to 64 bits (REX.W 63).
    public mutating func movsxd(_ destination: X86Register, _ source: X86Register) {
        startInstruction()
        emit(size: .qword, opcode: 0x63, reg: destination.rawValue, rm: .register(source))
    }

    /// `movsxd dst64, dword [mem]`: a sign-extending 32-bit load.
    public mutating func movsxd(_ destination: X86Register, _ source: X86Memory) {
        startInstruction()
        emit(size: .qword, opcode: 0x63, reg: destination.rawValue, rm: .memory(source))
    }

    /// `lea dst, [mem]`: the address itself, at `word`, `dword` or `qword` size; no flags change.
    public mutating func lea(_ size: X86OperandSize, _ destination: X86Register, _ source: X86Memory) {
        precondition(size != .byte, "lea has no 8-bit form")
        startInstruction()
        emit(size: size, opcode: 0x8D, reg: destination.rawValue, rm: .memory(source))
    }

    private mutating func extend(signed: Bool, _ size: X86OperandSize, _ destination: X86Register,
                                 _ sourceSize: X86OperandSize, _ source: RegisterOrMemory) {
        precondition(sourceSize == .byte || sourceSize == .word, "movzx/movsx extend a byte or a word, not a \(sourceSize)")
        precondition(size > sourceSize, "movzx/movsx must widen: \(sourceSize) to \(size)")
        var forceREX = false
        if sourceSize == .byte, case .register(let register) = source { forceREX = register.byteFormNeedsREX }
        startInstruction()
        emit(size: size, escaped: true, opcode: (signed ? 0xBE : 0xB6) + (sourceSize == .word ? 1 : 0),
             reg: destination.rawValue, rm: source, forceREX: forceREX)
    }
}
