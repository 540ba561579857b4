import JIT
import Testing

/// `mov` in all its forms, the extending moves and `lea`, byte for byte against GNU `as`.
@Suite(.enabled(if: GNUAssembler.isAvailable, GNUAssembler.missingMessage))
struct X86MoveEncodingTests {
    typealias S = IntelSyntax
    let registers = TestOperands.registers

    @Test func registerToRegister() throws {
        var batch = EncodingBatch()
        batch.addRegisterPairs("mov", sizes: TestOperands.sizes) { $0.mov($1, $2, $3) }
        try batch.expectMatchesGNUAssembler()
    }

    /// Byte, word and dword immediates; at qword size the reference text is the form the
    /// assembler should pick (`mov r32` for 0...0xFFFFFFFF, sign-extended imm32, else
    /// `movabs`); CodeBufferTests runs them to check the value each form leaves.
    @Test func immediateToRegister() throws {
        var batch = EncodingBatch()
        for register in registers {
            for size in [X86OperandSize.byte, .word, .dword] {
                for immediate in TestOperands.immediates(size) where size != .dword || immediate >= Int32.min {
                    batch.add("mov \(S.name(register, size)), \(immediate)") { $0.mov(size, register, imm: immediate) }
                }
            }
            for immediate in TestOperands.wideImmediates {
                let text = if UInt32(exactly: immediate) != nil { "mov \(S.name(register, .dword)), \(immediate)" }
                    else if Int32(exactly: immediate) != nil { "mov \(S.name(register, .qword)), \(immediate)" }
                    else { "movabs \(S.name(register, .qword)), \(S.hex(immediate))" }
                batch.add(text) { $0.mov(.qword, register, imm: immediate) }
                batch.add("movabs \(S.name(register, .qword)), \(S.hex(immediate))") { $0.movabs(register, imm: immediate) }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }

    /// Loads and stores of every size through every memory operand (the register rotates).
    @Test func loadsAndStores() throws {
        var batch = EncodingBatch()
        for (i, memory) in TestOperands.allMemory.enumerated() {
            for (j, size) in TestOperands.sizes.enumerated() {
                let register = TestOperands.rotating(i + j)
                batch.add("mov \(S.name(register, size)), \(S.memory(memory, size))") { $0.mov(size, register, memory) }
                batch.add("mov \(S.memory(memory, size)), \(S.name(register, size))") { $0.mov(size, memory, register) }
            }
        }
        // Every register at every size through a few memory operands.
        for register in registers {
            for size in TestOperands.sizes {
                for memory in TestOperands.someMemory.prefix(16) {
                    batch.add("mov \(S.name(register, size)), \(S.memory(memory, size))") { $0.mov(size, register, memory) }
                    batch.add("mov \(S.memory(memory, size)), \(S.name(register, size))") { $0.mov(size, memory, register) }
                }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }

    @Test func immediateStores() throws {
        var batch = EncodingBatch()
        for memory in TestOperands.someMemory {
            for size in TestOperands.sizes {
                for immediate in TestOperands.immediates(size) {
                    batch.add("mov \(S.memory(memory, size)), \(immediate)") { $0.mov(size, memory, imm: Int32(immediate)) }
                }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }

    @Test func extendingMoves() throws {
        var batch = EncodingBatch()
        let widenings: [(X86OperandSize, X86OperandSize)] = [(.word, .byte), (.dword, .byte), (.qword, .byte), (.dword, .word), (.qword, .word)]
        for (size, sourceSize) in widenings {
            batch.addRegisterPairs("movzx", sizes: [size], sourceSize: sourceSize) { $0.movzx($1, $2, sourceSize, $3) }
            batch.addRegisterPairs("movsx", sizes: [size], sourceSize: sourceSize) { $0.movsx($1, $2, sourceSize, $3) }
            for (i, memory) in TestOperands.someMemory.enumerated() {
                let destination = TestOperands.rotating(i)
                let operands = "\(S.name(destination, size)), \(S.memory(memory, sourceSize))"
                batch.add("movzx \(operands)") { $0.movzx(size, destination, sourceSize, memory) }
                batch.add("movsx \(operands)") { $0.movsx(size, destination, sourceSize, memory) }
            }
        }
        batch.addRegisterPairs("movsxd", sizes: [.qword], sourceSize: .dword) { $0.movsxd($2, $3) }
        for (i, memory) in TestOperands.someMemory.enumerated() {
            let destination = TestOperands.rotating(i + 3)
            batch.add("movsxd \(S.name(destination, .qword)), \(S.memory(memory, .dword))") { $0.movsxd(destination, memory) }
        }
        try batch.expectMatchesGNUAssembler()
    }

    @Test func loadEffectiveAddress() throws {
        var batch = EncodingBatch()
        for (i, memory) in TestOperands.allMemory.enumerated() {
            for size in TestOperands.wideSizes {
                let destination = TestOperands.rotating(i + size.bits)
                batch.add("lea \(S.name(destination, size)), \(S.memory(memory))") { $0.lea(size, destination, memory) }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }
}
