import JIT
import Testing

/// add/or/adc/sbb/and/sub/xor/cmp, test, neg and not, byte for byte against GNU `as`.
@Suite(.enabled(if: GNUAssembler.isAvailable, GNUAssembler.missingMessage))
struct X86ArithmeticEncodingTests {
    typealias S = IntelSyntax
    let registers = TestOperands.registers
    let operations = X86ArithmeticOperation.allCases

    @Test func registerToRegister() throws {
        var batch = EncodingBatch()
        for operation in operations {
            batch.addRegisterPairs("\(operation)", sizes: TestOperands.sizes) { $0.arithmetic(operation, $1, $2, $3) }
        }
        try batch.expectMatchesGNUAssembler()
    }

    /// Every register (the accumulator has short forms) with immediates at the edges of imm8
    /// and imm32, through a register and through memory.
    @Test func immediates() throws {
        var batch = EncodingBatch()
        for operation in operations {
            for size in TestOperands.sizes {
                for immediate in TestOperands.immediates(size) {
                    for register in registers {
                        batch.add("\(operation) \(S.name(register, size)), \(immediate)") {
                            $0.arithmetic(operation, size, register, imm: Int32(immediate))
                        }
                    }
                    for memory in TestOperands.someMemory.prefix(8) {
                        batch.add("\(operation) \(S.memory(memory, size)), \(immediate)") {
                            $0.arithmetic(operation, size, memory, imm: Int32(immediate))
                        }
                    }
                }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }

    /// Both directions between a register and memory, over the memory operands that cover every
    /// base, index and displacement form (the register rotates through all 16).
    @Test func memoryOperands() throws {
        var batch = EncodingBatch()
        for operation in operations {
            for (i, memory) in TestOperands.someMemory.enumerated() {
                for size in TestOperands.sizes {
                    let register = TestOperands.rotating(i + size.bits)
                    batch.add("\(operation) \(S.name(register, size)), \(S.memory(memory, size))") {
                        $0.arithmetic(operation, size, register, memory)
                    }
                    batch.add("\(operation) \(S.memory(memory, size)), \(S.name(register, size))") {
                        $0.arithmetic(operation, size, memory, register)
                    }
                }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }

    @Test func testNegateAndNot() throws {
        var batch = EncodingBatch()
        batch.addRegisterPairs("test", sizes: TestOperands.sizes) { $0.test($1, $2, $3) }
        for size in TestOperands.sizes {
            for first in registers {
                for immediate in TestOperands.immediates(size) {
                    batch.add("test \(S.name(first, size)), \(immediate)") { $0.test(size, first, imm: Int32(immediate)) }
                }
                batch.add("neg \(S.name(first, size))") { $0.neg(size, first) }
                batch.add("not \(S.name(first, size))") { $0.not(size, first) }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }
}
