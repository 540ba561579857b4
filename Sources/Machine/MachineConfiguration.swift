/// What a machine is made of. Two machines with equal configurations and equal inputs behave identically.
public struct MachineConfiguration: Sendable, Equatable {
    /// Guest-physical address of RAM, as on QEMU's `virt` machine.
    public static let ramBase: UInt64 = 0x8000_0000

    /// RAM size in bytes.
    public var memorySize: UInt64
    /// Retired instructions per tick of guest time (`mtime`, `time` CSR). With the 10 MHz
    /// timebase of `virt`, the default of 50 makes one guest second 500 million instructions.
    public var instructionsPerTick: UInt64

    /// Seed of the entropy device's byte stream. The guest's randomness is a function of it, so
    /// it is part of what makes two runs identical; a host that wants fresh randomness picks a
    /// new seed per boot (and records it).
    public var entropySeed: UInt64

    /// The network card's MAC address (6 bytes; ``MACAddress/parse(_:)`` reads one as people
    /// write it). Two nodes of a VM give the guest the same one: a failover moves it (the MAC
    /// announcement), and two VMs on one LAN need different ones.
    public var mac: [UInt8]

    public init(memorySize: UInt64 = 128 << 20, instructionsPerTick: UInt64 = 50, entropySeed: UInt64 = 0,
                mac: [UInt8] = VirtioNetwork.defaultMAC) {
        self.memorySize = memorySize
        self.instructionsPerTick = instructionsPerTick
        self.entropySeed = entropySeed
        self.mac = mac
    }
}
