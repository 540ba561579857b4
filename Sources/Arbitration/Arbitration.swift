// Temporary interface (replaced by the Arbitration module's own files).
public enum ArbitrationOutcome: Equatable, Sendable {
    case won(generation: UInt64)
    case lost(generation: UInt64, owner: String)
}
public enum ArbitrationError: Error, Equatable {
    case unreachable(String)
}
public protocol Arbiter: Sendable {
    func claim(vm: String, expectedGeneration: UInt64, owner: String) async throws(ArbitrationError) -> ArbitrationOutcome
    func current(vm: String) async throws(ArbitrationError) -> (generation: UInt64, owner: String)
}
#if canImport(Glibc)
import Glibc
#endif
/// Temporary: a lock-file arbiter (text "generation owner"), replaced by the real module.
public struct FileArbiter: Arbiter {
    let path: String
    public init(path: String) { self.path = path }
    private func locked<T>(_ body: (Int32) -> T) -> T {
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN); close(fd) }
        return body(fd)
    }
    private func read(_ fd: Int32, _ vm: String) -> [String: (UInt64, String)] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        lseek(fd, 0, SEEK_SET)
        let n = Glibc.read(fd, &buffer, buffer.count)
        var table: [String: (UInt64, String)] = [:]
        for line in String(decoding: buffer[0..<max(0, n)], as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 3, let g = UInt64(parts[1]) { table[String(parts[0])] = (g, String(parts[2])) }
        }
        return table
    }
    public func claim(vm: String, expectedGeneration: UInt64, owner: String) async throws(ArbitrationError) -> ArbitrationOutcome {
        locked { fd in
            var table = read(fd, vm)
            let current = table[vm] ?? (0, "")
            guard current.0 == expectedGeneration else { return .lost(generation: current.0, owner: current.1) }
            table[vm] = (expectedGeneration + 1, owner)
            let text = table.map { "\($0.key) \($0.value.0) \($0.value.1)\n" }.joined()
            ftruncate(fd, 0)
            _ = Array(text.utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            fsync(fd)
            return .won(generation: expectedGeneration + 1)
        }
    }
    public func current(vm: String) async throws(ArbitrationError) -> (generation: UInt64, owner: String) {
        locked { fd in let e = read(fd, vm)[vm] ?? (0, ""); return (e.0, e.1) }
    }
}
