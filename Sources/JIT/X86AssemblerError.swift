/// A mistake in the use of labels that the encoder can only detect when a label is bound or the
/// code is finished. Operand combinations the hardware lacks (an `rsp` index, a 64-bit `movzx`
/// source) are programming errors and stop the program with a precondition message instead.
public enum X86AssemblerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `bind(_:)` was called twice for one label.
    case labelAlreadyBound(label: Int, at: Int)
    /// A short (rel8) jump cannot reach its label.
    case shortJumpOutOfRange(label: Int, jumpAt: Int, distance: Int)
    /// `finish()` was called while a jump or call still refers to a label never bound.
    case unboundLabel(label: Int, referencedAt: Int)

    public var description: String {
        switch self {
        case .labelAlreadyBound(let label, let at):
            "label \(label) is already bound at offset \(at): create a new label for each position"
        case .shortJumpOutOfRange(let label, let jumpAt, let distance):
            "the short jump at offset \(jumpAt) cannot reach label \(label), \(distance) bytes away "
                + "(a rel8 reaches -128...127): use the rel32 form"
        case .unboundLabel(let label, let referencedAt):
            "label \(label), referenced at offset \(referencedAt), was never bound: bind it before finish()"
        }
    }
}
