// Helpers shared by the harnesses (compiled into each one by its run.sh).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fuzzer's input as an array.
func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
}

/// When the environment variable LOCKSTEP_FUZZ_WRITE_SEEDS names a directory, writes `seeds()`
/// there (one file per seed, made with the real encoders) and exits: run.sh makes its seed corpus
/// this way, from `LLVMFuzzerInitialize`, before fuzzing.
func writeSeedsIfAsked(_ seeds: () -> [(name: String, bytes: [UInt8])]) {
    guard let dir = getenv("LOCKSTEP_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return }
    let all = seeds()
    for seed in all {
        guard let file = fopen(dir + "/" + seed.name, "wb") else {
            print("cannot write \(dir)/\(seed.name)")
            exit(1)
        }
        _ = seed.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    print("wrote \(all.count) seeds to \(dir)")
    exit(0)
}

/// Little-endian and big-endian field access for the harnesses' checksum fix-ups.
extension Array where Element == UInt8 {
    func le(_ offset: Int, _ count: Int) -> UInt64? {
        guard offset >= 0, count <= self.count, offset <= self.count - count else { return nil }
        return (0..<count).reversed().reduce(0) { $0 << 8 | UInt64(self[offset + $1]) }
    }

    func be(_ offset: Int, _ count: Int) -> UInt64? {
        guard offset >= 0, count <= self.count, offset <= self.count - count else { return nil }
        return (0..<count).reduce(0) { $0 << 8 | UInt64(self[offset + $1]) }
    }

    mutating func setLE32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}
