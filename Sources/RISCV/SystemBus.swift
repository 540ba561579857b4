/// Physical accesses that fall outside RAM: device registers (MMIO) and holes.
///
/// The hart calls these only on its slow path. Implementations must be deterministic: the
/// result may depend only on the machine's state and on events, never on the host.
public protocol SystemBus: AnyObject {
    /// Reads `size` bytes (1, 2, 4 or 8) at a physical address; `nil` means an access fault.
    func load(physicalAddress: UInt64, size: Int) -> UInt64?
    /// Writes the low `size` bytes of `value`; `false` means an access fault.
    func store(physicalAddress: UInt64, size: Int, value: UInt64) -> Bool
}
