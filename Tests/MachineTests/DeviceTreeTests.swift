import Foundation
import Machine
import Testing

/// The generic devicetree builder and its flattened (DTB, version 17) serialization.
@Suite struct DeviceTreeTests {
    /// A small tree using every kind of property, two memory reservations and repeated names.
    static let sample: DeviceTree = {
        var phandles = DeviceTreePhandleAllocator()
        let controller = phandles.allocate()
        let root = DeviceTreeNode("", properties: [
            .u32("#address-cells", 2),
            .u32("#size-cells", 2),
            .string("compatible", "lockstep,sample"),
        ], children: [
            DeviceTreeNode("intc@1000", properties: [
                .phandle(controller),
                .empty("interrupt-controller"),
                .u32("#interrupt-cells", 1),
                .u32("#address-cells", 0),
                .u64("reg", 0x1000, 0x100),
            ]),
            DeviceTreeNode("dev@2000", properties: [
                .u64("reg", 0x2000, 0x8),
                .strings("compatible", ["vendor,dev-v2", "vendor,dev"]),
                .u32("interrupt-parent", controller.rawValue),
                .u32("interrupts", 5),
                .bytes("local-mac-address", [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
                .bytes("odd", [1, 2, 3]),
                .string("label", "a"),
            ], children: [
                DeviceTreeNode("child-with-a-long-name", properties: [.string("compatible", "x")]),
            ]),
        ])
        return DeviceTree(root: root, memoryReservations: [
            .init(address: 0x8000_0000, size: 0x20_0000),
            .init(address: 0x1_2345_6000, size: 0x1000),
        ])
    }()

    /// Every node of a builder tree by path, with its properties in order.
    static func expectedNodes(_ tree: DeviceTree) -> [String: [(name: String, value: [UInt8])]] {
        var result: [String: [(name: String, value: [UInt8])]] = [:]
        func visit(_ node: DeviceTreeNode, _ path: String) {
            result[path] = node.properties.map { ($0.name, $0.value) }
            for child in node.children { visit(child, DecompiledDeviceTree.childPath(path, child.name)) }
        }
        visit(tree.root, "/")
        return result
    }

    @Test func propertyEncodingsAreBigEndianCellsAndNulTerminatedStrings() {
        #expect(DeviceTreeProperty.u32("a", 0x0102_0304, 5).value == [1, 2, 3, 4, 0, 0, 0, 5])
        #expect(DeviceTreeProperty.cells("a", []).value == [])
        #expect(DeviceTreeProperty.u64("a", 0x0102_0304_0506_0708).value == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(DeviceTreeProperty.u64("reg", 0x8000_0000, 0x800_0000).value.bigEndianCells == [0, 0x8000_0000, 0, 0x800_0000])
        #expect(DeviceTreeProperty.string("a", "ok").value == Array("ok\0".utf8))
        #expect(DeviceTreeProperty.strings("a", ["x", "", "yz"]).value == Array("x\0\0yz\0".utf8))
        #expect(DeviceTreeProperty.empty("ranges").value == [])
        #expect(DeviceTreeProperty.bytes("b", [9, 8, 7]).value == [9, 8, 7])
        #expect(DeviceTreeProperty.phandle(DeviceTreePhandle(7)) == .u32("phandle", 7))
        var phandles = DeviceTreePhandleAllocator()
        #expect([phandles.allocate(), phandles.allocate(), phandles.allocate()].map(\.rawValue) == [1, 2, 3])
    }

    @Test func headerAndBlockLayoutFollowVersion17() throws {
        let blob = Self.sample.flattened()
        let fdt = try FlattenedDeviceTreeReader(blob)
        let h = fdt.header
        #expect(h.magic == 0xD00D_FEED)
        #expect(h.totalSize == UInt32(blob.count))
        #expect(h.version == 17)
        #expect(h.lastCompatibleVersion == 16)
        #expect(h.bootCPUID == 0)
        // Header (40 bytes), then the reservation block (8-aligned, 16 bytes per entry plus the
        // terminating entry), then the structure block, then the strings block, back to back.
        #expect(h.reservationsOffset == 40)
        #expect(h.structureOffset == 40 + 16 * 3)
        #expect(h.structureOffset % 4 == 0)
        #expect(h.stringsOffset == h.structureOffset + h.structureSize)
        #expect(h.totalSize == h.stringsOffset + h.stringsSize)
        #expect(h.structureSize % 4 == 0)
        // The structure block starts with the root's FDT_BEGIN_NODE and an empty name, and ends with FDT_END.
        let structure = Array(blob[Int(h.structureOffset)..<Int(h.structureOffset + h.structureSize)])
        #expect(Array(structure.prefix(8)).bigEndianCells == [1, 0])
        #expect(Array(structure.suffix(8)).bigEndianCells == [2, 9])

        #expect(fdt.reservations.map(\.address) == [0x8000_0000, 0x1_2345_6000])
        #expect(fdt.reservations.map(\.size) == [0x20_0000, 0x1000])
        let expected = Self.expectedNodes(Self.sample)
        #expect(fdt.paths == ["/", "/intc@1000", "/dev@2000", "/dev@2000/child-with-a-long-name"])
        for path in fdt.paths {
            #expect(fdt.nodes[path]!.map(\.name) == expected[path]!.map(\.name), "\(path)")
            #expect(fdt.nodes[path]!.map(\.value) == expected[path]!.map(\.value), "\(path)")
        }
    }

    @Test func propertyNamesAreStoredOnceInTheStringsBlock() throws {
        let fdt = try FlattenedDeviceTreeReader(Self.sample.flattened())
        #expect(Set(fdt.strings).count == fdt.strings.count, "\(fdt.strings)")
        let used = Set(Self.expectedNodes(Self.sample).values.flatMap { $0.map(\.name) })
        #expect(Set(fdt.strings) == used)
        #expect(fdt.strings.filter { $0 == "compatible" }.count == 1)
    }

    @Test func emptyTreeIsValid() throws {
        let blob = DeviceTree(root: DeviceTreeNode("")).flattened()
        let fdt = try FlattenedDeviceTreeReader(blob)
        #expect(fdt.paths == ["/"])
        #expect(fdt.header.stringsSize == 0)
        // Header, the terminating reservation, and FDT_BEGIN_NODE "" (padded), FDT_END_NODE, FDT_END.
        #expect(blob.count == 40 + 16 + 16)
    }

    /// dtc, which nobody here wrote, reads back exactly what was written, without warnings, and
    /// writes the same blob again when asked to re-serialize it.
    @Test func dtcReadsTheBlobBackUnchanged() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let blob = Self.sample.flattened()
        let (source, warnings) = try decompile(blob, in: directory, name: "sample")
        #expect(warnings.isEmpty, "dtc warnings:\n\(warnings)")
        #expect(source.contains("/memreserve/\t0x0000000080000000 0x0000000000200000;"), "\(source)")
        #expect(source.contains("/memreserve/\t0x0000000123456000 0x0000000000001000;"), "\(source)")
        let decompiled = try DecompiledDeviceTree(source: source)
        let expected = Self.expectedNodes(Self.sample)
        #expect(decompiled.paths == ["/", "/intc@1000", "/dev@2000", "/dev@2000/child-with-a-long-name"])
        for path in decompiled.paths {
            let node = decompiled.nodes[path]!
            #expect(node.propertyNames == expected[path]!.map(\.name), "\(path)")
            #expect(node.propertyNames.map { node.properties[$0]! } == expected[path]!.map(\.value), "\(path)")
        }

        let again = directory.path("again.dtb")
        let result = try runTool("dtc", ["-I", "dtb", "-O", "dtb", "-o", again, directory.path("sample.dtb")],
                                 package: "device-tree-compiler", in: directory)
        #expect(result.status == 0 && result.standardError.isEmpty, "\(result.standardError)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: again))) == blob)
    }
}
