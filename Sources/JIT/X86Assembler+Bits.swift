extension X86Assembler {
    /// `bswap reg`: reverses the byte order of a `dword` or `qword` register (0F C8+r).
    public mutating func bswap(_ size: X86OperandSize, _ register: X86Register) {
        precondition(size == .dword || size == .qword, "bswap is defined for 32 and 64 bits only")
        startInstruction()
        prefixes(size: size, base: register)
        bytes.append(contentsOf: [0x0F, 0xC8 + register.low3])
    }

    /// `popcnt dst, src` (F3 0F B8). Needs the POPCNT CPU feature (CPUID.01H:ECX bit 23): check
    /// it before emitting; older processors raise #UD.
    public mutating func popcnt(_ size: X86OperandSize, _ destination: X86Register, _ source: X86Register) {
        bitCount(0xB8, size, destination, source)
    }

    /// `lzcnt dst, src` (F3 0F BD): leading zeros, the operand size for zero. Needs ABM/LZCNT
    /// (CPUID.80000001H:ECX bit 5): on processors without it the same bytes decode as `bsr`,
    /// which gives a different result, so check before emitting.
    public mutating func lzcnt(_ size: X86OperandSize, _ destination: X86Register, _ source: X86Register) {
        bitCount(0xBD, size, destination, source)
    }

    /// `tzcnt dst, src` (F3 0F BC): trailing zeros, the operand size for zero. Needs BMI1
    /// (CPUID.07H:EBX bit 3): on processors without it the same bytes decode as `bsf`, which
    /// leaves the destination undefined for zero, so check before emitting.
    public mutating func tzcnt(_ size: X86OperandSize, _ destination: X86Register, _ source: X86Register) {
        bitCount(0xBC, size, destination, source)
    }

    private mutating func bitCount(_ opcode: UInt8, _ size: X86OperandSize, _ destination: X86Register, _ source: X86Register) {
        precondition(size != .byte, "popcnt/lzcnt/tzcnt have no 8-bit form")
        startInstruction()
        emit(size: size, mandatory: 0xF3, escaped: true, opcode: opcode, reg: destination.rawValue, rm: .register(source))
    }
}
