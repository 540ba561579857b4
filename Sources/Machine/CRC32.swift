/// CRC-32 as in zlib, PNG and Ethernet (polynomial 0xEDB88320 reflected, initial and final XOR
/// 0xFFFFFFFF), so that `python3 -c 'import zlib; print(zlib.crc32(data))'` agrees. Computed
/// eight bytes at a time (slicing-by-8).
public enum CRC32 {
    /// Eight 256-entry tables: table k gives the CRC contribution of a byte followed by k zero bytes.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            tables[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(k - 1) * 256 + byte]
                tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC-32 of `data`, continuing from `crc` (the CRC of the data before it; 0 to start).
    public static func checksum(_ data: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var c = ~crc
            var i = 0
            let n = data.count
            while i + 8 <= n {
                let word = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let low = UInt32(truncatingIfNeeded: word) ^ c
                let high = UInt32(truncatingIfNeeded: word >> 32)
                c = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                i += 8
            }
            while i < n {
                c = (c >> 8) ^ table[Int((c ^ UInt32(data[i])) & 0xFF)]
                i += 1
            }
            return ~c
        }
    }

    /// The CRC-32 of a byte array.
    public static func checksum(_ data: [UInt8]) -> UInt32 {
        data.withUnsafeBytes { checksum($0) }
    }
}
