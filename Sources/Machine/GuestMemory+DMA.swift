import RISCV

/// Little-endian accessors devices use for DMA into and out of guest RAM.
///
/// Callers check ranges with ``GuestMemory/contains(_:count:)`` first; these helpers only pick the
/// cheapest correct access. RAM starts on a page boundary and is a whole number of pages, so the
/// aligned 8-byte word around any in-RAM byte is in RAM too: naturally aligned 2- and 4-byte
/// fields are read through one ``GuestMemory/load64(at:)`` without allocating.
extension GuestMemory {
    /// Reads a little-endian value of `size` (1, 2, 4 or 8) bytes; the range must be in RAM.
    func loadLittleEndian(at address: UInt64, size: Int) -> UInt64 {
        let shift = address & 7
        if shift + UInt64(size) <= 8 {
            let word = load64(at: address & ~7) >> (shift * 8)
            return size == 8 ? word : word & ((1 << UInt64(size * 8)) - 1)
        }
        let bytes = read(at: address, count: size)
        var value: UInt64 = 0
        for i in 0..<size { value |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        return value
    }

    /// Writes the low `size` bytes of `value` little-endian; the range must be in RAM. Goes through
    /// ``GuestMemory/write(_:at:)`` so decoded code is invalidated as for any DMA write.
    func storeLittleEndian(_ value: UInt64, at address: UInt64, size: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes in
            write(UnsafeRawBufferPointer(rebasing: bytes[0..<size]), at: address)
        }
    }
}
