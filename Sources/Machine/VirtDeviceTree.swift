/// The flattened device tree Lockstep gives Linux at boot, built for `platform`.
///
/// It describes QEMU's `virt` machine with one hart, minus the devices Lockstep does not emulate
/// (PCIe, flash, RTC, fw_cfg, platform bus, PMU): same node names, compatible strings, register
/// windows, interrupt wiring and node order as `qemu-system-riscv64 -M virt -smp 1`.
public func makeVirtDeviceTree(_ platform: PlatformDescription) -> [UInt8] {
    VirtDeviceTree(platform).tree.flattened()
}

/// The device tree of Lockstep's `virt`-like machine, as nodes (see `makeVirtDeviceTree`).
public struct VirtDeviceTree: Sendable {
    /// The tree.
    public let tree: DeviceTree
    /// The hart's local interrupt controller (`/cpus/cpu@0/interrupt-controller`).
    public let hartInterruptController: DeviceTreePhandle
    /// The PLIC (`/soc/plic@c000000`), the `interrupt-parent` of the devices.
    public let plic: DeviceTreePhandle
    /// The SiFive test finisher (`/soc/test@100000`), the `regmap` of poweroff and reboot.
    public let test: DeviceTreePhandle

    /// Path of the console UART (`/chosen/stdout-path`).
    public static let stdoutPath = "/soc/" + unitName("serial", PlatformDescription.uartBase)

    /// Builds the tree for `platform`.
    public init(_ platform: PlatformDescription) {
        typealias P = PlatformDescription
        var phandles = DeviceTreePhandleAllocator()
        let intc = phandles.allocate()
        let plic = phandles.allocate()
        let test = phandles.allocate()
        hartInterruptController = intc
        self.plic = plic
        self.test = test

        // Children in QEMU's order (libfdt puts each new node first, so QEMU's last-created node
        // comes first). For virtio-mmio the order is visible to the guest: Linux probes the
        // transports in tree order, which decides which disk becomes vda.
        var root = DeviceTreeNode("", properties: [
            .u32("#address-cells", 2),
            .u32("#size-cells", 2),
            .string("compatible", "riscv-virtio"),
            .string("model", "riscv-virtio,qemu"),
        ])
        root.add(Self.chosen(platform))
        root.add(Self.sysconNode("poweroff", compatible: "syscon-poweroff", value: P.powerOffValue, regmap: test))
        root.add(Self.sysconNode("reboot", compatible: "syscon-reboot", value: P.rebootValue, regmap: test))
        root.add(DeviceTreeNode(Self.unitName("memory", platform.ramBase), properties: [
            .string("device_type", "memory"),
            .u64("reg", platform.ramBase, platform.ramSize),
        ]))
        root.add(Self.cpus(platform, intc: intc))
        root.add(Self.soc(platform, intc: intc, plic: plic, test: test))
        tree = DeviceTree(root: root)
    }

    /// `name@address` with the address in lowercase hexadecimal, as unit names are written.
    static func unitName(_ name: String, _ address: UInt64) -> String {
        "\(name)@\(String(address, radix: 16))"
    }

    static func chosen(_ platform: PlatformDescription) -> DeviceTreeNode {
        var chosen = DeviceTreeNode("chosen")
        if let initrd = platform.initrd {
            chosen.add(.u64("linux,initrd-end", initrd.upperBound))
            chosen.add(.u64("linux,initrd-start", initrd.lowerBound))
        }
        if !platform.bootArguments.isEmpty {
            chosen.add(.string("bootargs", platform.bootArguments))
        }
        chosen.add(.string("stdout-path", stdoutPath))
        return chosen
    }

    /// A `syscon-poweroff` or `syscon-reboot` node: write `value` at offset 0 of `regmap`.
    static func sysconNode(_ name: String, compatible: String, value: UInt32, regmap: DeviceTreePhandle) -> DeviceTreeNode {
        DeviceTreeNode(name, properties: [
            .u32("value", value),
            .u32("offset", 0),
            .u32("regmap", regmap.rawValue),
            .string("compatible", compatible),
        ])
    }

    static func cpus(_ platform: PlatformDescription, intc: DeviceTreePhandle) -> DeviceTreeNode {
        let interruptController = DeviceTreeNode("interrupt-controller", properties: [
            .u32("#interrupt-cells", 1),
            // Not in QEMU's tree; dtc warns about an interrupt provider without it.
            .u32("#address-cells", 0),
            .empty("interrupt-controller"),
            .string("compatible", "riscv,cpu-intc"),
            .phandle(intc),
        ])
        let cpu = DeviceTreeNode("cpu@0", properties: [
            .string("device_type", "cpu"),
            .u32("reg", 0),
            .string("status", "okay"),
            .string("compatible", "riscv"),
            .string("riscv,isa", platform.isa),
            .string("mmu-type", platform.mmuType),
        ], children: [interruptController])
        return DeviceTreeNode("cpus", properties: [
            .u32("#address-cells", 1),
            .u32("#size-cells", 0),
            .u32("timebase-frequency", platform.timebaseFrequency),
        ], children: [cpu])
    }

    static func soc(_ platform: PlatformDescription, intc: DeviceTreePhandle, plic: DeviceTreePhandle,
                    test: DeviceTreePhandle) -> DeviceTreeNode {
        typealias P = PlatformDescription
        var soc = DeviceTreeNode("soc", properties: [
            .u32("#address-cells", 2),
            .u32("#size-cells", 2),
            .string("compatible", "simple-bus"),
            .empty("ranges"),
        ])
        soc.add(DeviceTreeNode(unitName("serial", P.uartBase), properties: [
            .u32("interrupts", P.uartIRQ),
            .u32("interrupt-parent", plic.rawValue),
            .u32("clock-frequency", P.uartClockFrequency),
            .u64("reg", P.uartBase, P.uartSize),
            .string("compatible", "ns16550a"),
        ]))
        soc.add(DeviceTreeNode(unitName("test", P.testBase), properties: [
            .phandle(test),
            .u64("reg", P.testBase, P.testSize),
            .strings("compatible", ["sifive,test1", "sifive,test0", "syscon"]),
        ]))
        for slot in (0..<platform.virtioMMIOSlotCount).reversed() {
            let base = P.virtioMMIOAddress(slot: slot)
            soc.add(DeviceTreeNode(unitName("virtio_mmio", base), properties: [
                .u32("interrupts", P.virtioMMIOIRQ(slot: slot)),
                .u32("interrupt-parent", plic.rawValue),
                .u64("reg", base, P.virtioMMIOSize),
                .string("compatible", "virtio,mmio"),
            ]))
        }
        soc.add(DeviceTreeNode(unitName("plic", P.plicBase), properties: [
            .phandle(plic),
            .u32("riscv,ndev", P.plicSourceCount),
            .u64("reg", P.plicBase, P.plicSize),
            .cells("interrupts-extended", [intc.rawValue, P.machineExternalInterrupt,
                                           intc.rawValue, P.supervisorExternalInterrupt]),
            .empty("interrupt-controller"),
            .strings("compatible", ["sifive,plic-1.0.0", "riscv,plic0"]),
            .u32("#address-cells", 0),
            .u32("#interrupt-cells", 1),
        ]))
        soc.add(DeviceTreeNode(unitName("clint", P.clintBase), properties: [
            .cells("interrupts-extended", [intc.rawValue, P.machineSoftwareInterrupt,
                                           intc.rawValue, P.machineTimerInterrupt]),
            .u64("reg", P.clintBase, P.clintSize),
            .strings("compatible", ["sifive,clint0", "riscv,clint0"]),
        ]))
        return soc
    }
}
