import JIT
import Testing

/// bswap, popcnt/lzcnt/tzcnt, setcc and cmovcc, byte for byte against GNU `as`.
@Suite(.enabled(if: GNUAssembler.isAvailable, GNUAssembler.missingMessage))
struct X86BitsConditionalEncodingTests {
    typealias S = IntelSyntax
    let registers = TestOperands.registers

    @Test func byteSwapAndBitCounts() throws {
        var batch = EncodingBatch()
        for register in registers {
            for size in [X86OperandSize.dword, .qword] {
                batch.add("bswap \(S.name(register, size))") { $0.bswap(size, register) }
            }
        }
        batch.addRegisterPairs("popcnt", sizes: TestOperands.wideSizes) { $0.popcnt($1, $2, $3) }
        batch.addRegisterPairs("lzcnt", sizes: TestOperands.wideSizes) { $0.lzcnt($1, $2, $3) }
        batch.addRegisterPairs("tzcnt", sizes: TestOperands.wideSizes) { $0.tzcnt($1, $2, $3) }
        try batch.expectMatchesGNUAssembler()
    }

    @Test func setAndConditionalMove() throws {
        var batch = EncodingBatch()
        for condition in X86Condition.allCases {
            for register in registers {
                batch.add("set\(condition) \(S.name(register, .byte))") { $0.set(condition, register) }
                batch.add("set\(condition) \(S.name(register, .byte)); movzx \(S.name(register, .dword)), \(S.name(register, .byte))",
                          instructions: 2) { $0.set(condition, zeroExtendingInto: register) }
            }
            batch.addRegisterPairs("cmov\(condition)", sizes: TestOperands.wideSizes) { $0.cmov(condition, $1, $2, $3) }
            for size in TestOperands.wideSizes {
                for (i, memory) in TestOperands.someMemory.enumerated() {
                    let destination = TestOperands.rotating(i)
                    batch.add("cmov\(condition) \(S.name(destination, size)), \(S.memory(memory, size))") {
                        $0.cmov(condition, size, destination, memory)
                    }
                }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }
}
