extension FixedWidthInteger {
    /// The value of little-endian `bytes` (at most `bitWidth / 8` of them).
    init(littleEndianBytes bytes: some Collection<UInt8>) {
        var value: Self = 0
        for (i, byte) in bytes.enumerated() { value |= Self(byte) << (8 * i) }
        self = value
    }
}
