import CZstd

/// Zstandard (libzstd) one-shot compression, for the disk copy to a joining backup.
public enum Zstd {
    /// `bytes` compressed at `level` (1: fast, what a copy bounded by `--sync-rate` wants).
    public static func compress(_ bytes: [UInt8], level: Int32 = 1) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var output = [UInt8](repeating: 0, count: bound)
        let size = output.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { input in
                ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, level)
            }
        }
        // Compressing into a buffer of ZSTD_compressBound bytes cannot fail for lack of room;
        // any other error is a bug of the library's use.
        precondition(ZSTD_isError(size) == 0, "ZSTD_compress: \(String(cString: ZSTD_getErrorName(size)))")
        output.removeLast(output.count - size)
        return output
    }

    /// Decompresses a frame that must give exactly `length` bytes; nil for anything else (a
    /// damaged or hostile frame).
    public static func decompress(_ bytes: [UInt8], length: Int) -> [UInt8]? {
        guard length >= 0, length <= 1 << 26 else { return nil }
        let declared = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard declared == UInt64(length) else { return nil }
        var output = [UInt8](repeating: 0, count: length)
        let size = output.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { input in ZSTD_decompress(out.baseAddress, out.count, input.baseAddress, input.count) }
        }
        guard ZSTD_isError(size) == 0, size == length else { return nil }
        return output
    }
}
