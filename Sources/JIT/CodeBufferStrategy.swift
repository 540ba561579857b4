/// How a `CodeBuffer` makes its region executable without a page ever being writable and
/// executable at once.
public enum CodeBufferStrategy: Sendable, CaseIterable {
    /// Two mappings of one `memfd_create` file: read-write and read-execute at different
    /// addresses, as QEMU's split-wx does. Writes through one are seen through the other
    /// (they are the same pages), so code is executable as soon as it is written.
    case dualMapping
    /// One private anonymous mapping whose pages are switched to read-write while code is
    /// written into them and back to read-execute afterwards (`mprotect`). For hosts without
    /// `memfd_create`; refused where the policy forbids gaining execute permission (MDWE).
    case protectionFlip
}

