/// The eight two-operand integer operations that share one encoding pattern: opcode
/// `8 * rawValue` + 0...5 for the register and accumulator forms, `/rawValue` in the 80/81/83
/// immediate group.
public enum X86ArithmeticOperation: UInt8, CaseIterable, Sendable {
    case add = 0, or, adc, sbb, and, sub, xor, cmp
}
