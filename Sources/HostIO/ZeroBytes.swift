import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a buffer holds only zeros, at libc's speed in every build.
///
/// A disk copy asks this of every 256 KiB extent (and an image copy of every MiB). Written as a
/// Swift loop (`allSatisfy { $0 == 0 }`) it costs 40 ms per extent in a debug build: a full copy
/// of a 64 MiB disk to a new backup took 10 s, with the primary's guest throttled all along
/// (seen in the pool's tests). Here libc's `memcmp` does it: the buffer is all zeros exactly when
/// its first byte is zero and every byte equals the one after it.
public enum ZeroBytes {
    public static func allZero<Bytes: ContiguousBytes>(_ bytes: Bytes) -> Bool {
        bytes.withUnsafeBytes { buffer in
            // Sound: `buffer` is valid for its count for the duration of the closure, and both
            // ranges compared, [0, n-1) and [1, n), lie inside it.
            guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
            return buffer[0] == 0 && (buffer.count == 1 || memcmp(base, base + 1, buffer.count - 1) == 0)
        }
    }
}
