/// Guest memory accesses that hit a TLB, as host loads and stores.
///
/// The fast loop is one very large function. Past a size, the optimiser stops inlining ordinary
/// calls into it, and a load or store left as a call costs more than its own instructions: every
/// value the loop keeps in registers must survive the call, and the register allocation of the
/// whole loop gets worse. So each access here is `@inline(__always)` and non-generic, and is
/// inlined whatever the size of its caller.

/// The host address a TLB hit yields (virtual address + the entry's host delta).
///
/// Sound: a TLB entry exists only for a page inside RAM (``Hart/fillTLB``), and the executor uses
/// it only when the access lies entirely inside that page (the tag compare fails for misaligned
/// accesses, which could cross it), so the pointer is inside the live RAM mapping.
@inline(__always) func hostPointer(_ address: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: address)).unsafelyUnwrapped
}

/// The byte at a host address from a TLB hit, zero-extended.
@inline(__always) func hostLoad8(_ address: UInt64) -> UInt64 {
    UInt64(hostPointer(address).load(as: UInt8.self))
}

/// The byte at a host address from a TLB hit, sign-extended.
@inline(__always) func hostLoad8Signed(_ address: UInt64) -> UInt64 {
    UInt64(bitPattern: Int64(hostPointer(address).load(as: Int8.self)))
}

/// The halfword at a host address from a TLB hit (aligned: the tag compare admits no other), zero-extended.
@inline(__always) func hostLoad16(_ address: UInt64) -> UInt64 {
    UInt64(hostPointer(address).load(as: UInt16.self))
}

/// The halfword at a host address from a TLB hit, sign-extended.
@inline(__always) func hostLoad16Signed(_ address: UInt64) -> UInt64 {
    UInt64(bitPattern: Int64(hostPointer(address).load(as: Int16.self)))
}

/// The word at a host address from a TLB hit (aligned), zero-extended.
@inline(__always) func hostLoad32(_ address: UInt64) -> UInt64 {
    UInt64(hostPointer(address).load(as: UInt32.self))
}

/// The word at a host address from a TLB hit, sign-extended.
@inline(__always) func hostLoad32Signed(_ address: UInt64) -> UInt64 {
    UInt64(bitPattern: Int64(hostPointer(address).load(as: Int32.self)))
}

/// The doubleword at a host address from a TLB hit (aligned).
@inline(__always) func hostLoad64(_ address: UInt64) -> UInt64 {
    hostPointer(address).load(as: UInt64.self)
}

/// Stores the low byte of `value` at a host address from a TLB hit.
@inline(__always) func hostStore8(_ address: UInt64, _ value: UInt64) {
    hostPointer(address).storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
}

/// Stores the low halfword of `value` at a host address from a TLB hit (aligned).
@inline(__always) func hostStore16(_ address: UInt64, _ value: UInt64) {
    hostPointer(address).storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
}

/// Stores the low word of `value` at a host address from a TLB hit (aligned).
@inline(__always) func hostStore32(_ address: UInt64, _ value: UInt64) {
    hostPointer(address).storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
}

/// Stores `value` at a host address from a TLB hit (aligned).
@inline(__always) func hostStore64(_ address: UInt64, _ value: UInt64) {
    hostPointer(address).storeBytes(of: value, as: UInt64.self)
}
