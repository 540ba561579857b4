/// A devicetree property: a name and a value, kept as the big-endian bytes the flattened format
/// stores (Devicetree Specification v0.4, §2.2.4). The static constructors encode the usual
/// value types.
public struct DeviceTreeProperty: Hashable, Sendable {
    /// The property name, e.g. `compatible` or `#address-cells`.
    public var name: String
    /// The encoded value.
    public var value: [UInt8]

    /// A property with an already encoded value.
    public init(name: String, value: [UInt8]) {
        precondition(!name.isEmpty && !name.utf8.contains(0), "invalid property name \(name.debugDescription)")
        self.name = name
        self.value = value
    }

    /// A property with no value (a boolean that is true because it is present, e.g. `ranges;`).
    public static func empty(_ name: String) -> Self {
        Self(name: name, value: [])
    }

    /// One or more 32-bit cells (`<0x1 0x2>`).
    public static func u32(_ name: String, _ cells: UInt32...) -> Self {
        Self.cells(name, cells)
    }

    /// A list of 32-bit cells (`<0x1 0x2>`).
    public static func cells(_ name: String, _ cells: [UInt32]) -> Self {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(cells.count * 4)
        for cell in cells { bytes.appendBigEndian(cell) }
        return Self(name: name, value: bytes)
    }

    /// One or more 64-bit values, each as two cells, most significant first (as in `reg` with
    /// `#address-cells = <2>` and `#size-cells = <2>`).
    public static func u64(_ name: String, _ values: UInt64...) -> Self {
        Self.u64(name, values)
    }

    /// A list of 64-bit values, each as two cells, most significant first.
    public static func u64(_ name: String, _ values: [UInt64]) -> Self {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 8)
        for value in values { bytes.appendBigEndian(value) }
        return Self(name: name, value: bytes)
    }

    /// A NUL-terminated string.
    public static func string(_ name: String, _ string: String) -> Self {
        strings(name, [string])
    }

    /// A list of NUL-terminated strings, concatenated (`"a", "b"`, as in `compatible`).
    public static func strings(_ name: String, _ strings: [String]) -> Self {
        var bytes: [UInt8] = []
        for string in strings {
            precondition(!string.utf8.contains(0), "NUL inside devicetree string \(string.debugDescription)")
            bytes += string.utf8
            bytes.append(0)
        }
        return Self(name: name, value: bytes)
    }

    /// Raw bytes, stored as given (`[01 02 03]`).
    public static func bytes(_ name: String, _ bytes: [UInt8]) -> Self {
        Self(name: name, value: bytes)
    }

    /// The node's own `phandle` property.
    public static func phandle(_ phandle: DeviceTreePhandle) -> Self {
        u32("phandle", phandle.rawValue)
    }
}

extension Array where Element == UInt8 {
    /// Appends a 32-bit value, most significant byte first.
    mutating func appendBigEndian(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    /// Appends a 64-bit value, most significant byte first.
    mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
