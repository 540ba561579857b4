import RISCV

/// Routes physical accesses outside RAM to the device that claims the address.
public final class MemoryMappedBus: SystemBus {
    struct Mapping {
        let base: UInt64
        let device: any MemoryMappedDevice
    }
    private var mappings: [Mapping] = []

    public init() {}

    /// Places `device` at `base`. Windows must not overlap.
    public func map(_ device: any MemoryMappedDevice, at base: UInt64) {
        precondition(!mappings.contains { base < $0.base + $0.device.windowSize && $0.base < base + device.windowSize },
                     "overlapping device windows")
        mappings.append(Mapping(base: base, device: device))
    }

    @inline(__always) private func find(_ address: UInt64, _ size: Int) -> Mapping? {
        for m in mappings where address >= m.base && address - m.base + UInt64(size) <= m.device.windowSize {
            return m
        }
        return nil
    }

    public func load(physicalAddress: UInt64, size: Int) -> UInt64? {
        guard let m = find(physicalAddress, size) else { return nil }
        return m.device.read(offset: physicalAddress - m.base, size: size)
    }

    public func store(physicalAddress: UInt64, size: Int, value: UInt64) -> Bool {
        guard let m = find(physicalAddress, size) else { return false }
        m.device.write(offset: physicalAddress - m.base, size: size, value: value)
        return true
    }
}
