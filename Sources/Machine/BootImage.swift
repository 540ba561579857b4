import RISCV

/// What a machine booted: the memory regions its loader wrote (a Linux kernel, its initrd and
/// the device tree; or the segments of an ELF program) and the hart and machine flags as the
/// loader left them. ``Machine/reboot()`` returns the machine to it, and snapshots carry it
/// (section `BOOT`), so that a machine restored from a snapshot, such as a replicated backup,
/// can reboot without the kernel files.
///
/// ``Machine/bootLinux(kernel:initrd:commandLine:)`` and ``Machine/load(elf:)`` set it; a
/// machine that booted nothing has the empty image (no regions, the hart at power-on). What an
/// owner changes after loading (a register set by hand, a byte poked into RAM) is not part of it.
public struct BootImage: Equatable, Sendable {
    /// Bytes a loader wrote at a guest-physical address.
    public struct Region: Equatable, Sendable {
        public var address: UInt64
        public var bytes: [UInt8]

        public init(address: UInt64, bytes: [UInt8]) {
            self.address = address
            self.bytes = bytes
        }
    }

    /// What the loader wrote, in the order it wrote it (RAM is all zero before).
    public private(set) var regions: [Region]
    /// The hart as the loader left it. A reboot takes everything from it except the instruction
    /// count and guest time, which go on (see ``Machine/reboot()``).
    public private(set) var hart: HartArchitecturalState
    /// Whether the machine serves SBI calls (a kernel) after boot.
    public private(set) var servesSBI: Bool
    /// HTIF's `tohost` word (a bare-metal program that defines it), and `fromhost` if it has one.
    public private(set) var htifToHost: UInt64?
    public private(set) var htifFromHost: UInt64?
    /// A 64-bit digest of all of the above (``StateHasher`` over the serialization), computed
    /// once: the machine state (`MACH`) carries it, so a state hash covers the boot image at no cost.
    public private(set) var digest: UInt64 = 0

    public init(regions: [Region], hart: HartArchitecturalState, servesSBI: Bool, htifToHost: UInt64? = nil, htifFromHost: UInt64? = nil) {
        self.regions = regions
        self.hart = hart
        self.servesSBI = servesSBI
        self.htifToHost = htifToHost
        self.htifFromHost = htifToHost == nil ? nil : htifFromHost
        var writer = StateWriter()
        save(to: &writer)
        var hasher = StateHasher()
        writer.bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        digest = hasher.finalize()
    }

    /// Bytes of RAM the regions hold.
    public var byteCount: Int { regions.reduce(0) { $0 + $1.bytes.count } }
}

// MARK: Snapshot

extension BootImage {
    /// The most regions a boot image may have (a loader writes a handful; an ELF one per segment).
    static let maximumRegions = 1 << 16

    /// The `BOOT` section: serves SBI u8, HTIF present u8, `tohost` u64, `fromhost` present u8,
    /// `fromhost` u64, the hart (as in `HART`), region count u32, then per region its address
    /// u64, length u64 and bytes.
    func save(to writer: inout StateWriter) {
        writer.writeBool(servesSBI)
        writer.writeBool(htifToHost != nil)
        writer.writeUInt64(htifToHost ?? 0)
        writer.writeBool(htifFromHost != nil)
        writer.writeUInt64(htifFromHost ?? 0)
        hart.save(to: &writer)
        writer.writeUInt32(UInt32(regions.count))
        for region in regions {
            writer.writeUInt64(region.address)
            writer.writeUInt64(UInt64(region.bytes.count))
            writer.writeBytes(region.bytes)
        }
    }

    /// Reads what ``save(to:)`` wrote, checking every region lies in `memory` and the hart
    /// counts time as `configuration` does.
    init(from reader: inout StateReader, memory: GuestMemory, configuration: MachineConfiguration) throws(SnapshotError) {
        let sbi = try reader.readBool("boot image: SBI flag")
        let hasHTIF = try reader.readBool("boot image: HTIF flag")
        let toHost = try reader.readUInt64("boot image: HTIF tohost address")
        if hasHTIF && !memory.contains(toHost, count: 8) {
            throw reader.invalid("boot image: HTIF tohost address 0x\(String(toHost, radix: 16)) lies outside RAM")
        }
        let hasFromHost = try reader.readBool("boot image: HTIF fromhost flag")
        let fromHost = try reader.readUInt64("boot image: HTIF fromhost address")
        let hart = try HartArchitecturalState(from: &reader)
        guard hart.instructionsPerTick == configuration.instructionsPerTick else {
            throw .configurationMismatch(field: "instructionsPerTick (boot image)", snapshot: hart.instructionsPerTick,
                                         machine: configuration.instructionsPerTick)
        }
        let count = try reader.readCount(maximum: BootImage.maximumRegions, "boot image: number of regions")
        var regions: [Region] = []
        for index in 0..<count {
            let address = try reader.readUInt64("boot image: address of region \(index)")
            let length = try reader.readUInt64("boot image: length of region \(index)")
            guard memory.contains(address, count: length) else {
                throw reader.invalid("boot image: region \(index) (\(length) bytes at 0x\(String(address, radix: 16))) lies outside RAM")
            }
            let bytes = try reader.readBytes(count: Int(length), "boot image: the bytes of region \(index)")
            regions.append(Region(address: address, bytes: Array(bytes)))
        }
        try reader.expectEnd("section BOOT")
        self.init(regions: regions, hart: hart, servesSBI: sbi, htifToHost: hasHTIF ? toHost : nil,
                  htifFromHost: hasFromHost ? fromHost : nil)
    }
}
