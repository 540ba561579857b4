import JIT

/// The operands the encoding tests combine: every register, the displacements and immediates at
/// the edges of each encoding form, and memory operands over every base and index.
enum TestOperands {
    static let registers = X86Register.allCases
    static let sizes = X86OperandSize.allCases
    /// Sizes with a 16/32/64-bit form only (`imul`, `cmov`, `lea`, `popcnt`...).
    static let wideSizes: [X86OperandSize] = [.word, .dword, .qword]

    /// No displacement, disp8 and its limits, disp32 and its limits.
    static let displacements: [Int32] = [0, 1, -1, 127, 128, -128, .max, .min]

    /// Immediates at the edges of the imm8 and full-size forms that fit `size` (as a 32-bit
    /// immediate sign-extended for `qword`).
    static func immediates(_ size: X86OperandSize) -> [Int64] {
        let common: [Int64] = [0, 1, -1, 127, 128, -128]
        return switch size {
        case .byte: common + [255]
        case .word: common + [0x7FFF, -0x8000, 0xFFFF]
        case .dword, .qword: common + [Int64(Int32.max), Int64(Int32.min)]
        }
    }

    /// 64-bit immediates for `mov r64, imm`: the edges of the 32-bit zero-extended, 32-bit
    /// sign-extended and 64-bit forms.
    static let wideImmediates: [Int64] = immediates(.qword) + [
        0xFFFF_FFFF, 0x8000_0000, 0x1_0000_0000, -0x8000_0001, .max, .min, 0x1234_5678_9ABC_DEF0, -2,
    ]

    /// `[base + disp]` for every base and displacement (128 operands).
    static let baseMemory: [X86Memory] = registers.flatMap { base in
        displacements.map { X86Memory(base: base, displacement: $0) }
    }

    /// `[base + index*scale + disp]` for every base, index (not rsp) and scale, with no, an 8-bit
    /// and a 32-bit displacement (2880 operands).
    static let indexedMemory: [X86Memory] = registers.flatMap { base in
        registers.filter { $0 != .rsp }.flatMap { index in
            X86Memory.Scale.allCases.flatMap { scale in
                [Int32(0), -128, .max].map { X86Memory(base: base, index: index, scale: scale, displacement: $0) }
            }
        }
    }

    /// Every memory operand above.
    static let allMemory = baseMemory + indexedMemory

    /// A smaller set that still has every register as base and as index and every encoding
    /// form: each base with no, 8-bit and 32-bit displacement, and each base with two indexes
    /// (one of them r12 or r13 where possible) at rotating scales (80 operands).
    static let someMemory: [X86Memory] = {
        var operands: [X86Memory] = []
        for (i, base) in registers.enumerated() {
            for displacement: Int32 in [0, 127, 128] {
                operands.append(X86Memory(base: base, displacement: displacement))
            }
            let scale = X86Memory.Scale(rawValue: UInt8(i % 4))!
            let displacement: Int32 = [0, -1, .min][i % 3]
            for index in [registers[(i + 5) % 16], registers[(i + 12) % 16]] where index != .rsp {
                operands.append(X86Memory(base: base, index: index, scale: scale, displacement: displacement))
            }
        }
        return operands
    }()

    /// The register to combine with the `i`-th operand of a long list: rotates through all 16.
    static func rotating(_ i: Int) -> X86Register {
        registers[i % registers.count]
    }
}
