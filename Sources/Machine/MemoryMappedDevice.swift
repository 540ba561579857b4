/// A device with registers in the physical address space.
///
/// Offsets are relative to the device's base address. Reads of unimplemented registers return
/// zero and writes to them are ignored, as on real buses; an access fault is reserved for
/// addresses no device claims.
public protocol MemoryMappedDevice: AnyObject {
    /// Size of the register window in bytes.
    var windowSize: UInt64 { get }
    func read(offset: UInt64, size: Int) -> UInt64
    func write(offset: UInt64, size: Int, value: UInt64)
}
