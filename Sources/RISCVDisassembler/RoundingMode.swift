/// The floating-point rounding-mode operand (`rm`, bits 14:12).
enum RoundingMode {
    /// The encoding of the dynamic rounding mode, which objdump omits from the operands.
    static let dynamic: UInt32 = 7

    /// Names of the rounding modes; the reserved encodings 5 and 6 print as "unknown".
    private static let names = ["rne", "rtz", "rdn", "rup", "rmm", "unknown", "unknown", "dyn"]

    /// The operand suffix for `rm`: empty for the dynamic mode, otherwise `",<name>"`.
    static func suffix(_ rm: UInt32) -> String {
        rm & 7 == dynamic ? "" : "," + names[Int(rm & 7)]
    }
}
