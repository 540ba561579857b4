/// A position in a `CodeBuffer`: the offset from the start of its region.
///
/// Offsets rather than host pointers so that two addresses can be compared and subtracted
/// without unsafe arithmetic; `CodeBuffer.hostAddress(of:)` gives the executable address. An
/// address is meaningful only for the buffer that returned it, until that buffer's `reset()`.
public struct CodeAddress: Hashable, Comparable, Sendable {
    /// Bytes from the start of the buffer.
    public let offset: Int

    /// An address `offset` bytes from the start of a buffer.
    public init(offset: Int) {
        self.offset = offset
    }

    /// The address `distance` bytes further on (e.g. a jump's rel32 field inside a block).
    public func advanced(by distance: Int) -> CodeAddress {
        CodeAddress(offset: offset + distance)
    }

    public static func < (lhs: CodeAddress, rhs: CodeAddress) -> Bool { lhs.offset < rhs.offset }
}
