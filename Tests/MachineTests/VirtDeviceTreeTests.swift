import Foundation
import Machine
import Testing

/// Lockstep's `virt` device tree against the one QEMU's `virt` machine gives Linux.
@Suite struct VirtDeviceTreeTests {
    static let ramSize: UInt64 = 128 << 20
    static let bootArguments = "console=ttyS0 earlycon root=/dev/vda rw"
    static let initrdSize: UInt64 = 10_000
    /// Where QEMU puts the initrd for this machine: the kernel is loaded 2 MiB into RAM (after
    /// OpenSBI) and the initrd at kernel + min(RAM / 2, 128 MiB) (hw/riscv/boot.c). The test
    /// gives the same range to Lockstep's tree, so QEMU's initrd properties must match it.
    static let initrdStart: UInt64 = 0x8000_0000 + 0x20_0000 + min(ramSize / 2, 128 << 20)

    static let platform = PlatformDescription(ramSize: ramSize, bootArguments: bootArguments,
                                              initrd: initrdStart..<initrdStart + initrdSize)

    // MARK: Deliberate differences

    /// Nodes in QEMU's tree (with their subtrees) that Lockstep's tree does not have.
    static let nodesOnlyInQEMU: [String: String] = [
        "/pmu": "SBI PMU event mapping: Lockstep has no hardware performance counters",
        "/fw-cfg@10100000": "QEMU's firmware configuration device is not emulated",
        "/flash@20000000": "the CFI flash banks are not emulated",
        "/platform-bus@4000000": "QEMU's dynamic sysbus devices (-device on the platform bus) do not exist",
        "/cpus/cpu-map": "CPU topology for one hart tells Linux nothing",
        "/soc/rtc@101000": "the Goldfish RTC is not emulated",
        "/soc/pci@30000000": "the PCIe host bridge is not emulated",
    ]

    /// Properties on nodes both trees have, present only in QEMU's.
    static let propertiesOnlyInQEMU: [String: String] = [
        "/chosen rng-seed": "QEMU passes random bytes; Lockstep is deterministic and passes none",
    ]

    /// Properties that may be present only in Lockstep's tree.
    static let propertiesOnlyInLockstep: [String: String] = [
        "/cpus/cpu@0/interrupt-controller #address-cells":
            "<0> on an interrupt provider; QEMU 7.2 omits it and dtc warns (checked equal when QEMU has it)",
    ]

    /// Properties whose values differ on purpose: the reason, and a check of both values that
    /// returns a complaint or nil.
    static let differentValues: [String: (reason: String, check: @Sendable (_ ours: [UInt8], _ qemu: [UInt8]) -> String?)] = [
        "/cpus/cpu@0 riscv,isa": (
            "QEMU's default CPU has more extensions (H, Zba/Zbb/Zbc/Zbs, Sstc, ...) than Lockstep implements; "
                + "every extension Lockstep lists must be in QEMU's list",
            { ours, qemu in
                guard let o = ours.nulTerminatedStrings, o.count == 1, let q = qemu.nulTerminatedStrings, q.count == 1 else {
                    return "not a single string"
                }
                let (ourBase, ourLetters, ourNamed) = parseISA(o[0]), (qemuBase, qemuLetters, qemuNamed) = parseISA(q[0])
                guard ourBase == "rv64", qemuBase == "rv64" else { return "base \(o[0]) vs \(q[0])" }
                let missing = ourLetters.subtracting(qemuLetters).map(String.init) + ourNamed.subtracting(qemuNamed)
                return missing.isEmpty ? nil : "Lockstep lists \(missing.sorted()) which QEMU (\(q[0])) does not"
            }),
        "/cpus/cpu@0 mmu-type": (
            "Lockstep implements Sv39 at most; QEMU's default CPU offers Sv48 (7.2) or, in newer releases, Sv57",
            { ours, qemu in
                guard ours.nulTerminatedStrings == ["riscv,sv39"] else { return "Lockstep should say riscv,sv39" }
                return ["riscv,sv39", "riscv,sv48", "riscv,sv57"].contains(qemu.nulTerminatedStrings?.first ?? "")
                    ? nil : "unexpected QEMU mmu-type"
            }),
        "/soc/plic@c000000 riscv,ndev": (
            "95 sources (IDs 1...95 of QEMU's 96, 0 meaning 'none'), as newer QEMU releases say; QEMU 7.2 says 96, one too many",
            { ours, qemu in
                guard ours.bigEndianCells == [95] else { return "Lockstep should say 95" }
                return [[95], [96]].contains(qemu.bigEndianCells) ? nil : "unexpected QEMU riscv,ndev"
            }),
        "/chosen linux,initrd-start": (
            "compared as numbers: Lockstep writes 64 bits, QEMU 7.2 one cell",
            { ours, qemu in ours.bigEndianNumber == qemu.bigEndianNumber && ours.count == 8 ? nil : "differ" }),
        "/chosen linux,initrd-end": (
            "compared as numbers: Lockstep writes 64 bits, QEMU 7.2 one cell",
            { ours, qemu in ours.bigEndianNumber == qemu.bigEndianNumber && ours.count == 8 ? nil : "differ" }),
    ]

    /// Properties whose cells hold phandles: compared after replacing each phandle by the path
    /// of the node it names (phandle numbers differ: QEMU numbers nodes we do not have).
    static let phandleProperties: Set<String> = ["interrupt-parent", "regmap", "interrupts-extended"]

    /// "rv64imafdc_zicsr" → ("rv64", {i, m, a, f, d, c}, {"zicsr"}).
    static func parseISA(_ isa: String) -> (base: String, letters: Set<Character>, named: Set<String>) {
        let parts = isa.lowercased().split(separator: "_")
        let first = parts.first ?? ""
        return (String(first.prefix(4)), Set(first.dropFirst(4)), Set(parts.dropFirst().map(String.init)))
    }

    // MARK: Comparison

    /// A property value with phandles replaced by node paths, for comparison and messages.
    static func normalized(_ name: String, _ value: [UInt8], in tree: DecompiledDeviceTree) -> String {
        let targets = tree.pathsByPhandle
        func target(_ phandle: UInt32) -> String { targets[phandle] ?? "<no node has phandle \(phandle)>" }
        let cells = value.bigEndianCells
        switch name {
        case "interrupt-parent", "regmap":
            return cells.map { "&" + target($0) }.joined(separator: " ")
        case "interrupts-extended":
            var parts: [String] = []
            var i = 0
            while i < cells.count {
                let path = target(cells[i])
                let count = tree.nodes[path]?.properties["#interrupt-cells"]?.bigEndianCells.first.map(Int.init) ?? 1
                parts.append("&" + path)
                parts += cells[(i + 1)..<min(i + 1 + count, cells.count)].map { "0x" + String($0, radix: 16) }
                i += 1 + count
            }
            return parts.joined(separator: " ")
        default:
            if value.count % 4 == 0, !value.isEmpty, value.nulTerminatedStrings == nil || value.contains(where: { $0 < 0x20 && $0 != 0 }) {
                return "<" + cells.map { "0x" + String($0, radix: 16) }.joined(separator: " ") + ">"
            }
            if let strings = value.nulTerminatedStrings { return strings.map(\.debugDescription).joined(separator: ", ") }
            return value.isEmpty ? "(empty)" : "[" + value.map { String($0, radix: 16) }.joined(separator: " ") + "]"
        }
    }

    /// Everything that differs between Lockstep's tree and QEMU's, other than the deliberate
    /// differences listed above; empty when they agree.
    static func differences(ours: DecompiledDeviceTree, qemu: DecompiledDeviceTree) -> [String] {
        var problems: [String] = []
        for path in ours.paths {
            guard let qemuNode = qemu.nodes[path] else {
                problems.append("\(path): not in QEMU's tree")
                continue
            }
            let ourNode = ours.nodes[path]!
            // Sibling order (Linux probes devices, e.g. virtio-mmio disks, in tree order).
            let qemuOrder = qemuNode.children.filter { ourNode.children.contains($0) }
            if qemuOrder != ourNode.children {
                problems.append("\(path): children in order \(ourNode.children), QEMU's order is \(qemuOrder)")
            }
            for name in Set(ourNode.propertyNames).union(qemuNode.propertyNames).sorted() where name != "phandle" {
                let key = "\(path) \(name)"
                switch (ourNode.properties[name], qemuNode.properties[name]) {
                case (nil, _?):
                    if propertiesOnlyInQEMU[key] == nil { problems.append("\(key): missing (QEMU has \(normalized(name, qemuNode.properties[name]!, in: qemu)))") }
                case (let o?, nil):
                    if propertiesOnlyInLockstep[key] == nil { problems.append("\(key): not in QEMU's tree (ours is \(normalized(name, o, in: ours)))") }
                case (let o?, let q?):
                    if let special = differentValues[key] {
                        if let complaint = special.check(o, q) {
                            problems.append("\(key): \(complaint) (ours \(normalized(name, o, in: ours)), QEMU's \(normalized(name, q, in: qemu)))")
                        }
                    } else if normalized(name, o, in: ours) != normalized(name, q, in: qemu) {
                        problems.append("\(key): ours is \(normalized(name, o, in: ours)), QEMU's is \(normalized(name, q, in: qemu))")
                    }
                case (nil, nil):
                    break
                }
            }
        }
        for path in qemu.paths where ours.nodes[path] == nil {
            let deliberate = nodesOnlyInQEMU.keys.contains { path == $0 || path.hasPrefix($0 + "/") }
            if !deliberate { problems.append("\(path): in QEMU's tree but not in Lockstep's") }
        }
        return problems
    }

    /// The tree QEMU gives Linux for the same machine: 128 MiB, one hart, the same command line
    /// and an initrd of the same size (QEMU fills /chosen only when it boots a kernel, so it is
    /// given a dummy one; it exits right after dumping the tree).
    static func qemuTree(in directory: TemporaryDirectory) throws -> DecompiledDeviceTree {
        let kernel = directory.path("kernel.bin"), initrd = directory.path("initrd.bin"), dtb = directory.path("qemu.dtb")
        try Data(count: 4096).write(to: URL(fileURLWithPath: kernel))
        try Data(count: Int(initrdSize)).write(to: URL(fileURLWithPath: initrd))
        let result = try runTool("qemu-system-riscv64", [
            "-M", "virt,dumpdtb=\(dtb)", "-m", "\(ramSize >> 20)M", "-smp", "1", "-nographic",
            "-kernel", kernel, "-initrd", initrd, "-append", bootArguments,
        ], package: "qemu-system-misc", in: directory)
        guard result.status == 0, FileManager.default.fileExists(atPath: dtb) else {
            throw TestSetupError("qemu-system-riscv64 did not dump its device tree (status \(result.status)): \(result.standardError)")
        }
        let blob = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dtb)))
        return try DecompiledDeviceTree(source: try decompile(blob, in: directory, name: "qemu-decompiled").source)
    }

    static func ourTree(_ platform: PlatformDescription, in directory: TemporaryDirectory) throws -> (DecompiledDeviceTree, warnings: String) {
        let (source, warnings) = try decompile(makeVirtDeviceTree(platform), in: directory, name: "lockstep")
        return (try DecompiledDeviceTree(source: source), warnings)
    }

    // MARK: Tests

    @Test func agreesWithQEMUsVirtMachine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let qemu = try Self.qemuTree(in: directory)
        let (ours, _) = try Self.ourTree(Self.platform, in: directory)
        let problems = Self.differences(ours: ours, qemu: qemu)
        #expect(problems.isEmpty, "differences from QEMU:\n\(problems.joined(separator: "\n"))")
        // The comparison covered the devices Linux needs (not an empty intersection).
        for path in ["/cpus/cpu@0/interrupt-controller", "/memory@80000000", "/chosen", "/poweroff", "/reboot",
                     "/soc/serial@10000000", "/soc/plic@c000000", "/soc/clint@2000000", "/soc/test@100000",
                     "/soc/virtio_mmio@10001000", "/soc/virtio_mmio@10008000"] {
            #expect(ours.nodes[path] != nil && qemu.nodes[path] != nil, "\(path)")
        }
        #expect(qemu.nodes["/chosen"]?.properties["linux,initrd-start"] != nil, "QEMU's tree has no initrd")
        #expect(ours.nodes["/chosen"]?.properties["bootargs"]?.nulTerminatedStrings == [Self.bootArguments])
    }

    /// The comparison is not vacuous: a wrong interrupt, a missing property, an extra node,
    /// a wrong interrupt target or a reordered virtio slot is reported.
    @Test func comparisonReportsDifferences() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let qemu = try Self.qemuTree(in: directory)
        let (ours, _) = try Self.ourTree(Self.platform, in: directory)
        #expect(Self.differences(ours: ours, qemu: qemu).isEmpty)

        var wrongIRQ = ours
        wrongIRQ.nodes["/soc/serial@10000000"]!.properties["interrupts"] = [0, 0, 0, 11]
        #expect(Self.differences(ours: wrongIRQ, qemu: qemu) == [
            "/soc/serial@10000000 interrupts: ours is <0xb>, QEMU's is <0xa>",
        ])

        var missing = ours
        missing.nodes["/soc/virtio_mmio@10003000"]!.properties["interrupt-parent"] = nil
        #expect(Self.differences(ours: missing, qemu: qemu) == [
            "/soc/virtio_mmio@10003000 interrupt-parent: missing (QEMU has &/soc/plic@c000000)",
        ])

        var wrongTarget = ours
        wrongTarget.nodes["/soc/clint@2000000"]!.properties["interrupts-extended"] =
            ours.nodes["/soc/plic@c000000"]!.properties["interrupts-extended"]
        #expect(Self.differences(ours: wrongTarget, qemu: qemu).count == 1)

        var extra = ours
        extra.nodes["/soc/rtc@101001"] = .init(path: "/soc/rtc@101001")
        extra.paths.append("/soc/rtc@101001")
        #expect(Self.differences(ours: extra, qemu: qemu) == ["/soc/rtc@101001: not in QEMU's tree"])

        var reordered = ours
        reordered.nodes["/soc"]!.children.reverse()
        #expect(Self.differences(ours: reordered, qemu: qemu).count == 1)

        var wrongISA = ours
        wrongISA.nodes["/cpus/cpu@0"]!.properties["riscv,isa"] = Array("rv64imafdcv\0".utf8)
        #expect(Self.differences(ours: wrongISA, qemu: qemu).count == 1)
    }

    @Test func blobIsWellFormedAndDTCHasNoWarnings() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let blob = makeVirtDeviceTree(Self.platform)
        let fdt = try FlattenedDeviceTreeReader(blob)
        #expect(fdt.header.magic == 0xD00D_FEED)
        #expect(fdt.header.totalSize == UInt32(blob.count))
        #expect(fdt.header.version == 17 && fdt.header.lastCompatibleVersion == 16)
        #expect(fdt.header.reservationsOffset == 40 && fdt.header.structureOffset == 56)
        #expect(fdt.header.stringsOffset == fdt.header.structureOffset + fdt.header.structureSize)
        #expect(fdt.header.totalSize == fdt.header.stringsOffset + fdt.header.stringsSize)
        #expect(fdt.header.bootCPUID == 0)
        #expect(fdt.reservations.isEmpty)
        #expect(Set(fdt.strings).count == fdt.strings.count)

        let (ours, warnings) = try Self.ourTree(Self.platform, in: directory)
        #expect(warnings.isEmpty, "dtc warnings:\n\(warnings)")
        #expect(ours.paths == fdt.paths)
        // Every phandle is unique and every reference resolves.
        let phandles = ours.nodes.values.compactMap { $0.properties["phandle"]?.bigEndianCells.first }
        #expect(Set(phandles).count == phandles.count)
        for node in ours.nodes.values {
            for name in node.propertyNames where Self.phandleProperties.contains(name) {
                #expect(!Self.normalized(name, node.properties[name]!, in: ours).contains("<no node"), "\(node.path) \(name)")
            }
        }
    }

    @Test func chosenWithoutInitrdOrCommandLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (ours, warnings) = try Self.ourTree(PlatformDescription(ramSize: 1 << 30, virtioMMIOSlotCount: 2), in: directory)
        #expect(warnings.isEmpty, "dtc warnings:\n\(warnings)")
        let chosen = try #require(ours.nodes["/chosen"])
        #expect(chosen.propertyNames == ["stdout-path"])
        #expect(chosen.properties["stdout-path"]?.nulTerminatedStrings == ["/soc/serial@10000000"])
        #expect(ours.nodes["/memory@80000000"]?.properties["reg"]?.bigEndianCells == [0, 0x8000_0000, 0, 0x4000_0000])
        #expect(ours.nodes["/soc"]!.children.filter { $0.hasPrefix("virtio_mmio@") }
                == ["virtio_mmio@10002000", "virtio_mmio@10001000"])
    }

    @Test func initrdAbove4GiBKeepsAll64Bits() throws {
        var platform = Self.platform
        platform.initrd = 0x1_0000_0000..<0x1_0000_2000
        let fdt = try FlattenedDeviceTreeReader(makeVirtDeviceTree(platform))
        let chosen = try #require(fdt.nodes["/chosen"])
        #expect(chosen.first { $0.name == "linux,initrd-start" }?.value.bigEndianNumber == 0x1_0000_0000)
        #expect(chosen.first { $0.name == "linux,initrd-end" }?.value.bigEndianNumber == 0x1_0000_2000)
    }
}
