import JIT

/// Operands written in GNU `as`'s `.intel_syntax noprefix`, for the reference texts.
enum IntelSyntax {
    private static let legacyNames: [[String]] = [
        ["al", "ax", "eax", "rax"], ["cl", "cx", "ecx", "rcx"], ["dl", "dx", "edx", "rdx"], ["bl", "bx", "ebx", "rbx"],
        ["spl", "sp", "esp", "rsp"], ["bpl", "bp", "ebp", "rbp"], ["sil", "si", "esi", "rsi"], ["dil", "di", "edi", "rdi"],
    ]

    /// `register`'s name at `size`: `al`, `ax`, `eax`, `rax`; `r8b`, `r8w`, `r8d`, `r8`.
    static func name(_ register: X86Register, _ size: X86OperandSize) -> String {
        let column = [X86OperandSize.byte, .word, .dword, .qword].firstIndex(of: size)!
        if register.rawValue < 8 { return legacyNames[Int(register.rawValue)][column] }
        return "r\(register.rawValue)" + ["b", "w", "d", ""][column]
    }

    /// `byte ptr`, `word ptr`, `dword ptr`, `qword ptr`.
    static func pointer(_ size: X86OperandSize) -> String {
        ["byte", "word", "dword", "qword"][[X86OperandSize.byte, .word, .dword, .qword].firstIndex(of: size)!] + " ptr"
    }

    /// `qword ptr [rax+rcx*4-128]`, or without the size when `size` is nil.
    static func memory(_ memory: X86Memory, _ size: X86OperandSize? = nil) -> String {
        var text = "[\(name(memory.base, .qword))"
        if let index = memory.index { text += "+\(name(index, .qword))*\(memory.scale.factor)" }
        if memory.displacement > 0 { text += "+\(memory.displacement)" }
        if memory.displacement < 0 { text += "\(memory.displacement)" }
        text += "]"
        return size.map { "\(pointer($0)) \(text)" } ?? text
    }

    /// `0x…` of the 64-bit pattern, for `movabs` (as reads large decimals as bignums).
    static func hex(_ value: Int64) -> String {
        "0x" + String(UInt64(bitPattern: value), radix: 16)
    }
}
