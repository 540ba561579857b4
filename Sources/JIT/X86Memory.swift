/// A memory operand `[base + index * scale + displacement]`.
///
/// The encoder picks the shortest form a displacement allows (none, 8-bit, 32-bit), adds the SIB
/// byte `rsp` and `r12` need as a base, and the zero displacement `rbp` and `r13` need.
public struct X86Memory: Hashable, Sendable {
    /// The scale an index register is multiplied by.
    public enum Scale: UInt8, CaseIterable, Sendable {
        case one = 0, two, four, eight

        /// 1, 2, 4 or 8.
        public var factor: Int { 1 << Int(rawValue) }
    }

    /// The base register.
    public let base: X86Register
    /// The index register, if any (never `rsp`).
    public let index: X86Register?
    /// What `index` is multiplied by (`.one` when there is no index).
    public let scale: Scale
    /// The displacement added to the address.
    public let displacement: Int32

    /// `[base + displacement]`.
    public init(base: X86Register, displacement: Int32 = 0) {
        self.base = base
        self.index = nil
        self.scale = .one
        self.displacement = displacement
    }

    /// `[base + index * scale + displacement]`. `index` must not be `rsp`: its number means
    /// "no index" in a SIB byte, so the hardware has no such addressing mode.
    public init(base: X86Register, index: X86Register, scale: Scale = .one, displacement: Int32 = 0) {
        precondition(index != .rsp, "rsp cannot be an index register: its number means 'no index' in a SIB byte")
        self.base = base
        self.index = index
        self.scale = scale
        self.displacement = displacement
    }
}
