/// A condition code of `jcc`, `setcc` and `cmovcc`: the low four bits of their opcodes.
///
/// Aliases name the same code: `b` is carry (unsigned below), `ae` no carry, `e` zero, `ne` not
/// zero; `l`/`ge`/`le`/`g` are the signed comparisons, `b`/`ae`/`be`/`a` the unsigned ones.
public enum X86Condition: UInt8, CaseIterable, Sendable {
    case o = 0, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g

    /// Carry set (unsigned below).
    public static let c = X86Condition.b
    /// Carry clear (unsigned above or equal).
    public static let nc = X86Condition.ae
    /// Zero (equal).
    public static let z = X86Condition.e
    /// Not zero (not equal).
    public static let nz = X86Condition.ne

    /// The condition that holds exactly when this one does not.
    public var negated: X86Condition { X86Condition(rawValue: rawValue ^ 1)! }
}
