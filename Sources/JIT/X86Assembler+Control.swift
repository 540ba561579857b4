extension X86Assembler {
    /// `jmp label` with a 32-bit displacement (E9), bound now or later.
    public mutating func jmp(_ label: X86Label) {
        let start = offset
        startInstruction()
        byte(0xE9)
        labelFieldReachingAnywhere(label, instruction: start)
    }

    /// `jmp label` with an 8-bit displacement (EB): throws if the label is bound and out of reach
    /// (nothing is emitted then); a later `bind(_:)` throws if it is out of reach then.
    public mutating func jmp(short label: X86Label) throws(X86AssemblerError) {
        let start = offset
        startInstruction()
        byte(0xEB)
        try labelField(label, width: 1, instruction: start)
    }

    /// `jcc label` with a 32-bit displacement (0F 80+cc).
    public mutating func jcc(_ condition: X86Condition, _ label: X86Label) {
        let start = offset
        startInstruction()
        bytes.append(contentsOf: [0x0F, 0x80 + condition.rawValue])
        labelFieldReachingAnywhere(label, instruction: start)
    }

    /// `jcc label` with an 8-bit displacement (70+cc); throws as `jmp(short:)` does.
    public mutating func jcc(_ condition: X86Condition, short label: X86Label) throws(X86AssemblerError) {
        let start = offset
        startInstruction()
        byte(0x70 + condition.rawValue)
        try labelField(label, width: 1, instruction: start)
    }

    /// `call label` (E8 rel32).
    public mutating func call(_ label: X86Label) {
        let start = offset
        startInstruction()
        byte(0xE8)
        labelFieldReachingAnywhere(label, instruction: start)
    }

    /// `jmp rel32` with an explicit displacement from the end of the instruction. Its field is
    /// the last 4 bytes, at `offset - 4` right after this call: what block chaining patches.
    public mutating func jmp(relative displacement: Int32) {
        startInstruction()
        byte(0xE9)
        littleEndian(Int64(displacement), count: 4)
    }

    /// `call rel32` with an explicit displacement from the end of the instruction (field at
    /// `offset - 4` afterwards).
    public mutating func call(relative displacement: Int32) {
        startInstruction()
        byte(0xE8)
        littleEndian(Int64(displacement), count: 4)
    }

    /// `jmp reg`: to the address in `register` (FF /4).
    public mutating func jmp(_ register: X86Register) {
        indirect(4, .register(register))
    }

    /// `jmp qword [mem]`: to the address stored at `memory` (FF /4).
    public mutating func jmp(_ memory: X86Memory) {
        indirect(4, .memory(memory))
    }

    /// `call reg` (FF /2). The System V ABI wants `rsp` 16-byte aligned at the call.
    public mutating func call(_ register: X86Register) {
        indirect(2, .register(register))
    }

    /// `call qword [mem]` (FF /2).
    public mutating func call(_ memory: X86Memory) {
        indirect(2, .memory(memory))
    }

    /// `ret` (C3).
    public mutating func ret() {
        startInstruction()
        byte(0xC3)
    }

    /// `push reg` (50+r), 64 bits.
    public mutating func push(_ register: X86Register) {
        startInstruction()
        prefixes(size: nil, base: register)
        byte(0x50 + register.low3)
    }

    /// `pop reg` (58+r), 64 bits.
    public mutating func pop(_ register: X86Register) {
        startInstruction()
        prefixes(size: nil, base: register)
        byte(0x58 + register.low3)
    }

    /// `ud2` (0F 0B): raises #UD, for paths that must never run.
    public mutating func ud2() {
        startInstruction()
        bytes.append(contentsOf: [0x0F, 0x0B])
    }

    /// `int3` (CC): a breakpoint trap; also fills gaps between blocks.
    public mutating func int3() {
        startInstruction()
        byte(0xCC)
    }

    /// One no-op instruction of `length` bytes, 1...9: the forms Intel's manual recommends
    /// (`90`, `66 90`, `0F 1F /0` with growing address forms), which GNU `as` also uses.
    public mutating func nop(length: Int = 1) {
        precondition((1 ... 9).contains(length), "a single nop is 1 to 9 bytes long, not \(length)")
        startInstruction()
        bytes.append(contentsOf: Self.nops[length - 1])
    }

    /// `nop`, `xchg ax, ax`, then `nop dword [rax]`, `[rax + 0]`, `[rax + rax*1 + 0]` (also with
    /// 66), `[rax + 0 (32-bit)]`, `[rax + rax*1 + 0 (32-bit)]` (also with 66).
    private static let nops: [[UInt8]] = [
        [0x90],
        [0x66, 0x90],
        [0x0F, 0x1F, 0x00],
        [0x0F, 0x1F, 0x40, 0x00],
        [0x0F, 0x1F, 0x44, 0x00, 0x00],
        [0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00],
        [0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00],
        [0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ]

    /// No-ops up to the next multiple of `alignment` (a power of two): the fewest instructions
    /// of at most 9 bytes.
    public mutating func align(to alignment: Int) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment \(alignment) is not a power of two")
        var remaining = (alignment - offset % alignment) % alignment
        while remaining > 0 {
            let length = min(remaining, 9)
            nop(length: length)
            remaining -= length
        }
    }

    /// `jmp`/`call` through a register or memory (FF /4, FF /2): 64-bit without REX.W.
    private mutating func indirect(_ digit: UInt8, _ target: RegisterOrMemory) {
        startInstruction()
        emit(size: nil, opcode: 0xFF, reg: digit, rm: target)
    }

    /// A rel32 field: reaches any label in code smaller than 2 GiB, so it cannot fail.
    private mutating func labelFieldReachingAnywhere(_ label: X86Label, instruction: Int) {
        do {
            try labelField(label, width: 4, instruction: instruction)
        } catch {
            preconditionFailure("a rel32 field cannot be out of range: \(error)")
        }
    }
}
