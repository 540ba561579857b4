/// What the device tree tells the kernel about the machine: a copy of QEMU's `virt` machine with
/// one hart, so that the same kernel and command line boot on Lockstep and on QEMU.
///
/// The instance properties are what varies from boot to boot; the static ones are the fixed
/// memory map and interrupt wiring of `virt` (hw/riscv/virt.c in QEMU).
public struct PlatformDescription: Hashable, Sendable {
    /// Guest-physical address of RAM.
    public var ramBase: UInt64
    /// RAM size in bytes.
    public var ramSize: UInt64
    /// The kernel command line (`/chosen/bootargs`); no `bootargs` property when empty, as QEMU
    /// does without `-append`.
    public var bootArguments: String
    /// Where the initial ramdisk was loaded: `linux,initrd-start` and the exclusive
    /// `linux,initrd-end` in `/chosen`; `nil` when there is none.
    public var initrd: Range<UInt64>?
    /// Frequency of `mtime` and the `time` CSR in Hz (`/cpus/timebase-frequency`).
    public var timebaseFrequency: UInt32
    /// The hart's `riscv,isa` string.
    public var isa: String
    /// The hart's `mmu-type`: the widest virtual-memory scheme it implements.
    public var mmuType: String
    /// How many virtio-mmio transports are listed (slots 0..<count). QEMU lists all eight
    /// whether or not a device is attached; an empty slot reads as device ID 0 and Linux skips it.
    public var virtioMMIOSlotCount: Int

    public init(ramBase: UInt64 = MachineConfiguration.ramBase,
                ramSize: UInt64,
                bootArguments: String = "",
                initrd: Range<UInt64>? = nil,
                timebaseFrequency: UInt32 = PlatformDescription.defaultTimebaseFrequency,
                isa: String = "rv64imafdc",
                mmuType: String = "riscv,sv39",
                virtioMMIOSlotCount: Int = PlatformDescription.virtioMMIOMaxSlots) {
        precondition((0...Self.virtioMMIOMaxSlots).contains(virtioMMIOSlotCount), "virt has 8 virtio-mmio slots")
        self.ramBase = ramBase
        self.ramSize = ramSize
        self.bootArguments = bootArguments
        self.initrd = initrd
        self.timebaseFrequency = timebaseFrequency
        self.isa = isa
        self.mmuType = mmuType
        self.virtioMMIOSlotCount = virtioMMIOSlotCount
    }
}

extension PlatformDescription {
    /// The frequency of `mtime` every Lockstep machine has (10 MHz, as QEMU's `virt`): how many
    /// guest time ticks pass in a host second while the guest idles.
    public static let defaultTimebaseFrequency: UInt32 = 10_000_000

    /// The SiFive test finisher (poweroff and reboot through `syscon`).
    public static let testBase: UInt64 = SiFiveTest.defaultBase
    public static let testSize: UInt64 = 0x1000

    /// The core-local interruptor (`msip`, `mtimecmp`, `mtime`).
    public static let clintBase: UInt64 = CLINT.defaultBase
    public static let clintSize: UInt64 = 0x1_0000

    /// The platform-level interrupt controller. The window is sized, as on QEMU, for the largest
    /// `virt` machine (512 harts, two contexts each), whatever the number of harts.
    public static let plicBase: UInt64 = 0x0C00_0000
    public static let plicSize: UInt64 = 0x60_0000
    /// The number of PLIC interrupt sources (`riscv,ndev`): sources 1...95 (0 means "none").
    public static let plicSourceCount: UInt32 = 95

    /// The ns16550a console UART.
    public static let uartBase: UInt64 = UART16550.defaultBase
    public static let uartSize: UInt64 = 0x100
    /// The UART's PLIC source.
    public static let uartIRQ: UInt32 = 10
    /// The UART's input clock in Hz (3.6864 MHz), from which Linux derives baud-rate divisors.
    public static let uartClockFrequency: UInt32 = 0x38_4000

    /// Slot 0 of the virtio-mmio transports; slot `n` is at `virtioMMIOBase + n * virtioMMIOSize`.
    public static let virtioMMIOBase: UInt64 = 0x1000_1000
    public static let virtioMMIOSize: UInt64 = 0x1000
    public static let virtioMMIOMaxSlots = 8

    /// Guest-physical address of virtio-mmio slot `slot`.
    public static func virtioMMIOAddress(slot: Int) -> UInt64 {
        virtioMMIOBase + UInt64(slot) * virtioMMIOSize
    }

    /// PLIC source of virtio-mmio slot `slot` (1 + slot).
    public static func virtioMMIOIRQ(slot: Int) -> UInt32 {
        1 + UInt32(slot)
    }

    /// What the guest writes to the test finisher to power off (`syscon-poweroff` value).
    public static let powerOffValue: UInt32 = 0x5555
    /// What the guest writes to the test finisher to reboot (`syscon-reboot` value).
    public static let rebootValue: UInt32 = 0x7777

    /// Hart-local interrupt numbers the CLINT and PLIC raise (`mip` bits).
    public static let machineSoftwareInterrupt: UInt32 = 3
    public static let machineTimerInterrupt: UInt32 = 7
    public static let supervisorExternalInterrupt: UInt32 = 9
    public static let machineExternalInterrupt: UInt32 = 11
}
