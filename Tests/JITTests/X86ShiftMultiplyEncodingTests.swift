import JIT
import Testing

/// Rotates and shifts, multiplication and division, byte for byte against GNU `as`.
@Suite(.enabled(if: GNUAssembler.isAvailable, GNUAssembler.missingMessage))
struct X86ShiftMultiplyEncodingTests {
    typealias S = IntelSyntax
    let registers = TestOperands.registers

    @Test func shiftsAndRotates() throws {
        var batch = EncodingBatch()
        for operation in X86ShiftOperation.allCases {
            for size in TestOperands.sizes {
                for register in registers {
                    for count: UInt8 in [0, 1, 2, 7, 31, 63, 255] {
                        batch.add("\(operation) \(S.name(register, size)), \(count)") { $0.shift(operation, size, register, by: count) }
                    }
                    batch.add("\(operation) \(S.name(register, size)), cl") { $0.shiftByCL(operation, size, register) }
                }
            }
        }
        try batch.expectMatchesGNUAssembler()
    }

    @Test func multiplyAndDivide() throws {
        var batch = EncodingBatch()
        batch.addRegisterPairs("imul", sizes: TestOperands.wideSizes) { $0.imul($1, $2, $3) }
        for size in TestOperands.wideSizes {
            for destination in registers {
                for (i, immediate) in TestOperands.immediates(size).enumerated() {
                    let source = TestOperands.rotating(Int(destination.rawValue) + i)
                    batch.add("imul \(S.name(destination, size)), \(S.name(source, size)), \(immediate)") {
                        $0.imul(size, destination, source, imm: Int32(immediate))
                    }
                }
            }
        }
        for size in TestOperands.sizes {
            for register in registers {
                let operand = S.name(register, size)
                batch.add("mul \(operand)") { $0.mul(size, register) }
                batch.add("imul \(operand)") { $0.imul(size, register) }
                batch.add("div \(operand)") { $0.div(size, register) }
                batch.add("idiv \(operand)") { $0.idiv(size, register) }
            }
        }
        batch.add("cdq") { $0.cdq() }
        batch.add("cqo") { $0.cqo() }
        batch.add("cdqe") { $0.cdqe() }
        try batch.expectMatchesGNUAssembler()
    }
}
