/// The predecessor and successor sets of `fence` (bits 27:24 and 23:20).
enum FenceOrdering {
    /// Names of the sets, indexed by the 4-bit field (i, o, r, w from high to low bit).
    /// The empty set prints as "unknown", as objdump does.
    private static let names = [
        "unknown", "w", "r", "rw", "o", "ow", "or", "orw",
        "i", "iw", "ir", "irw", "io", "iow", "ior", "iorw",
    ]

    /// The name of the ordering set encoded in the low four bits of `field`.
    static func name(_ field: UInt32) -> String { names[Int(field & 0xf)] }
}
