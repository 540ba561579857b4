import HostIO
import Testing

/// libzstd through CZstd: round trips, and frames that do not give the promised length (damaged
/// or hostile) are refused rather than trusted.
@Suite struct ZstdTests {
    @Test func roundTripsAndShrinksWhatRepeats() throws {
        let text = Array(String(repeating: "redis appendonly entry ", count: 4000).utf8)
        let packed = Zstd.compress(text)
        #expect(packed.count < text.count / 10)
        #expect(Zstd.decompress(packed, length: text.count) == text)
        var generator: UInt64 = 7
        let noise = (0..<65536).map { _ -> UInt8 in
            generator = generator &* 6364136223846793005 &+ 1
            return UInt8(truncatingIfNeeded: generator >> 33)
        }
        #expect(Zstd.decompress(Zstd.compress(noise), length: noise.count) == noise)
        #expect(Zstd.decompress(Zstd.compress([]), length: 0) == [])
    }

    @Test func badFramesAreRefused() {
        let data = Array(repeating: UInt8(9), count: 10_000)
        let packed = Zstd.compress(data)
        #expect(Zstd.decompress(packed, length: data.count - 1) == nil)
        #expect(Zstd.decompress(Array(packed.dropLast(3)), length: data.count) == nil)
        #expect(Zstd.decompress([1, 2, 3, 4, 5], length: 5) == nil)
        var damaged = packed
        damaged[damaged.count / 2] ^= 0xFF
        let result = Zstd.decompress(damaged, length: data.count)
        #expect(result == nil || result == data)   // a flipped byte in a literal run may still decode
    }
}
