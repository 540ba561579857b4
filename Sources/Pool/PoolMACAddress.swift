import Machine

/// The MAC address the pool gives a VM declared without `--mac`: `02:` (locally administered
/// and unicast, as QEMU's `52:54:00:` is, but outside the range QEMU hands its own guests, so a
/// QEMU VM on the same LAN does not collide with it) and five bytes of a hash of the VM's name
/// (FNV-1a, 64 bits), so that a VM declared again under its name gets the address it had; if
/// another VM has that address already, the next free one.
public enum PoolMACAddress {
    /// The first byte of every address the pool picks: locally administered, unicast.
    static let prefix: UInt8 = 0x02

    /// The address for a VM called `name`, not one of `taken`.
    public static func assign(for name: String, taken: Set<[UInt8]>) -> [UInt8] {
        var value = fnv1a(name) & 0xFF_FFFF_FFFF   // the low 40 bits
        // 2^40 candidates, and a pool has far fewer VMs: the loop ends after a few steps.
        while taken.contains(address(value)) { value = (value + 1) & 0xFF_FFFF_FFFF }
        return address(value)
    }

    /// `02:` followed by the low 40 bits of `value`, most significant first.
    static func address(_ value: UInt64) -> [UInt8] {
        [prefix] + (0..<5).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// FNV-1a, 64 bits, over the UTF-8 bytes of `text`.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
