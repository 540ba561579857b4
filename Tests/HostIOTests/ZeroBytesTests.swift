@testable import HostIO
import Testing

@Suite struct ZeroBytesTests {
    @Test func onlyABufferOfZerosIsAllZero() {
        #expect(ZeroBytes.allZero([UInt8]()))
        #expect(ZeroBytes.allZero([UInt8](repeating: 0, count: 1)))
        #expect(ZeroBytes.allZero([UInt8](repeating: 0, count: 262_144)))
        for place in [0, 1, 4095, 131_072, 262_142, 262_143] {
            for value: UInt8 in [1, 0x80, 0xFF] {
                var bytes = [UInt8](repeating: 0, count: 262_144)
                bytes[place] = value
                #expect(!ZeroBytes.allZero(bytes), "a \(value) at \(place)")
            }
        }
        // A buffer of equal bytes that are not zero.
        #expect(!ZeroBytes.allZero([UInt8](repeating: 7, count: 4096)))
        #expect(!ZeroBytes.allZero([UInt8]([5])))
        // Slices, as an image copy reads them.
        let bytes: [UInt8] = [9, 0, 0, 0, 0, 9]
        #expect(ZeroBytes.allZero(bytes[1..<5]))
        #expect(!ZeroBytes.allZero(bytes[1..<6]))
    }
}
