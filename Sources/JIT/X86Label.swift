/// A position in an `X86Assembler`'s code that jumps and calls can refer to before it is known.
///
/// Created by `X86Assembler.newLabel()`, placed once with `bind(_:)`; references emitted before
/// the bind are patched when it happens. A label belongs to the assembler that created it.
public struct X86Label: Hashable, Sendable {
    /// The label's number in its assembler.
    let id: Int
}
