/// A devicetree phandle: the number a node is given in its `phandle` property so that other
/// nodes can refer to it from cells (`interrupt-parent`, `interrupts-extended`, `regmap`, ...).
///
/// 0 and 0xFFFF_FFFF are not valid phandles (Devicetree Specification v0.4, §2.3.3).
public struct DeviceTreePhandle: Hashable, Sendable {
    /// The value stored in the `phandle` property and in the cells that refer to the node.
    public let rawValue: UInt32

    /// A phandle with the given value, which must be neither 0 nor 0xFFFF_FFFF.
    public init(_ rawValue: UInt32) {
        precondition(rawValue != 0 && rawValue != .max, "invalid phandle \(rawValue)")
        self.rawValue = rawValue
    }
}

/// Hands out distinct phandles 1, 2, 3, ... in order.
public struct DeviceTreePhandleAllocator: Sendable {
    private var next: UInt32 = 1

    public init() {}

    /// A phandle not returned before by this allocator.
    public mutating func allocate() -> DeviceTreePhandle {
        defer { next += 1 }
        return DeviceTreePhandle(next)
    }
}
