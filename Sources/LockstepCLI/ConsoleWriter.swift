import Machine
import Replay
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffers guest console bytes and hands them on a line (or 4 KiB) at a time: to a file
/// descriptor (the terminal) or to another sink (a TCP console).
final class ConsoleWriter: OutputSink {
    private var buffer: [UInt8] = []
    private let sink: ([UInt8]) -> Void

    /// Writes to `descriptor`.
    convenience init(descriptor: Int32 = 1) {
        self.init { bytes in
            var start = 0
            while start < bytes.count {
                let written = bytes[start...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                start += written
            }
        }
    }

    /// Hands every flushed chunk to `sink`.
    init(sink: @escaping ([UInt8]) -> Void) {
        self.sink = sink
        buffer.reserveCapacity(4096)
    }

    func append(_ byte: UInt8) {
        buffer.append(byte)
        if byte == 10 || buffer.count >= 4096 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}

extension ConsoleWriter {
    /// Console output of a run nobody follows leaves at once (frames: see ``RunOutputs``).
    func emit(_ output: MachineOutput, after position: UInt64) {
        if case .console(let bytes) = output { for byte in bytes { append(byte) } }
    }
}
