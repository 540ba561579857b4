/// ABI names of the integer and floating-point registers, as objdump prints them.
enum Registers {
    /// Integer register names, indexed by register number.
    static let integer: [String] = [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
        "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
        "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    ]

    /// Floating-point register names, indexed by register number.
    static let floatingPoint: [String] = [
        "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7",
        "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
        "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
        "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
    ]

    /// The name of integer register `number` (only the low five bits are used).
    static func x(_ number: Int) -> String { integer[number & 31] }

    /// The name of floating-point register `number` (only the low five bits are used).
    static func f(_ number: Int) -> String { floatingPoint[number & 31] }

    /// The name of compressed-encoding integer register `number` (x8 + the low three bits).
    static func xPrime(_ number: Int) -> String { integer[8 + (number & 7)] }

    /// The name of compressed-encoding floating-point register `number` (f8 + the low three bits).
    static func fPrime(_ number: Int) -> String { floatingPoint[8 + (number & 7)] }
}
