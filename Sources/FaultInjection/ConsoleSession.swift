import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A persistent connection to a node's console port, for timing requests one after another.
public final class ConsoleSession {
    private let fd: Int32
    private var received: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; nil if nothing listens there.
    public init?(port: Int) {
        fd = connectLoopback(port: port)
        if fd < 0 { return nil }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Sends `text` and waits until `expected` appears in what comes back (consumed up to it).
    /// Returns the seconds it took, or nil on timeout or a closed connection.
    public func request(_ text: String, expecting expected: String, seconds: Double) -> Double? {
        let start = Date()
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return nil }
        let needle = Array(expected.utf8)
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if let range = firstRange(of: needle) {
                received.removeSubrange(..<range.upperBound)
                return Date().timeIntervalSince(start)
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) >= 0 else { return nil }
            if poller.revents == 0 { continue }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return nil }
            received += buffer[0..<n]
        }
        return nil
    }

    private func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard received.count >= needle.count else { return nil }
        for start in 0...(received.count - needle.count) where received[start] == needle[0] {
            if Array(received[start..<(start + needle.count)]) == needle { return start..<(start + needle.count) }
        }
        return nil
    }
}
