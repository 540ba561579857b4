#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffers guest console bytes and writes them to a file descriptor (the terminal).
final class ConsoleWriter {
    private var buffer: [UInt8] = []
    private let descriptor: Int32

    init(descriptor: Int32 = 1) {
        self.descriptor = descriptor
        buffer.reserveCapacity(4096)
    }

    func append(_ byte: UInt8) {
        buffer.append(byte)
        if byte == 10 || buffer.count >= 4096 { flush() }
    }

    func flush() {
        var start = 0
        while start < buffer.count {
            let written = buffer[start...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written <= 0 { break }
            start += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}
