/// A whole devicetree and its serialization to the flattened devicetree (FDT, "DTB") format,
/// version 17, that a kernel is given at boot (Devicetree Specification v0.4, chapter 5).
///
/// The blob is laid out as the specification recommends: header, memory reservation block,
/// structure block, strings block. All integers are big-endian; the structure block is made of
/// `FDT_BEGIN_NODE`, `FDT_PROP`, `FDT_END_NODE` tokens and ends with `FDT_END`; property names
/// are stored once each in the strings block.
public struct DeviceTree: Hashable, Sendable {
    /// A region of physical memory the client program must not use (§5.3).
    public struct MemoryReservation: Hashable, Sendable {
        public var address: UInt64
        public var size: UInt64

        public init(address: UInt64, size: UInt64) {
            self.address = address
            self.size = size
        }
    }

    /// The root node (its name is empty).
    public var root: DeviceTreeNode
    /// The memory reservation block's entries (the terminating empty entry is added when serializing).
    public var memoryReservations: [MemoryReservation]
    /// The physical ID of the boot CPU (`boot_cpuid_phys`, the `reg` of its `cpu` node).
    public var bootCPUID: UInt32

    public init(root: DeviceTreeNode, memoryReservations: [MemoryReservation] = [], bootCPUID: UInt32 = 0) {
        precondition(root.name.isEmpty, "the root node's name is empty")
        self.root = root
        self.memoryReservations = memoryReservations
        self.bootCPUID = bootCPUID
    }

    /// The header's magic number.
    public static let magic: UInt32 = 0xD00D_FEED
    /// The format version written (`version`).
    public static let version: UInt32 = 17
    /// The oldest version the blob is backwards compatible with (`last_comp_version`).
    public static let lastCompatibleVersion: UInt32 = 16
    /// Size of the version-17 header in bytes.
    public static let headerSize = 40

    /// The structure block tokens written (§5.4.1; FDT_NOP, 4, is never needed).
    enum Token: UInt32 {
        case beginNode = 1, endNode = 2, property = 3, end = 9
    }

    /// The flattened devicetree blob.
    public func flattened() -> [UInt8] {
        // Structure and strings blocks.
        var structure: [UInt8] = []
        var strings: [UInt8] = []
        var stringOffsets: [String: UInt32] = [:]
        func stringOffset(_ name: String) -> UInt32 {
            if let offset = stringOffsets[name] { return offset }
            let offset = UInt32(strings.count)
            strings += name.utf8
            strings.append(0)
            stringOffsets[name] = offset
            return offset
        }
        func padStructure() {
            while structure.count % 4 != 0 { structure.append(0) }
        }
        func emit(_ node: DeviceTreeNode) {
            structure.appendBigEndian(Token.beginNode.rawValue)
            structure += node.name.utf8
            structure.append(0)
            padStructure()
            for property in node.properties {
                structure.appendBigEndian(Token.property.rawValue)
                structure.appendBigEndian(UInt32(property.value.count))
                structure.appendBigEndian(stringOffset(property.name))
                structure += property.value
                padStructure()
            }
            for child in node.children { emit(child) }
            structure.appendBigEndian(Token.endNode.rawValue)
        }
        emit(root)
        structure.appendBigEndian(Token.end.rawValue)

        // Memory reservation block: 8-byte aligned, right after the header, ends with an empty entry.
        var reservations: [UInt8] = []
        for entry in memoryReservations + [MemoryReservation(address: 0, size: 0)] {
            reservations.appendBigEndian(entry.address)
            reservations.appendBigEndian(entry.size)
        }

        let reservationsOffset = Self.headerSize   // 40, a multiple of 8
        let structureOffset = reservationsOffset + reservations.count
        let stringsOffset = structureOffset + structure.count
        let totalSize = stringsOffset + strings.count

        var blob: [UInt8] = []
        blob.reserveCapacity(totalSize)
        for field in [
            Self.magic,
            UInt32(totalSize),
            UInt32(structureOffset),      // off_dt_struct
            UInt32(stringsOffset),        // off_dt_strings
            UInt32(reservationsOffset),   // off_mem_rsvmap
            Self.version,
            Self.lastCompatibleVersion,
            bootCPUID,                    // boot_cpuid_phys
            UInt32(strings.count),        // size_dt_strings
            UInt32(structure.count),      // size_dt_struct
        ] {
            blob.appendBigEndian(field)
        }
        blob += reservations
        blob += structure
        blob += strings
        return blob
    }
}
