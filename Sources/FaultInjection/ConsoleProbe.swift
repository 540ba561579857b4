import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Types a shell command on a console port and waits for a text in the answer: the simplest
/// check that a live node's guest answers (used with the plain shell guest).
public enum ConsoleProbe {
    /// Sends `command` and a newline to 127.0.0.1:`port` (again every `resendEvery` seconds:
    /// input typed while the guest is still booting is lost, so the command must be harmless to
    /// repeat) and returns what came back once it contains `expected`; nil if the port refuses or
    /// the text does not come within `seconds`.
    public static func ask(port: Int, command: String, expecting expected: String, seconds: Double, resendEvery: Double = 2) -> String? {
        let fd = connectLoopback(port: port)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let bytes = Array("\n\(command)\n".utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return nil }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date(timeIntervalSinceNow: seconds)
        var resendAt = Date(timeIntervalSinceNow: resendEvery)
        while Date() < deadline {
            if Date() > resendAt {
                resendAt = Date(timeIntervalSinceNow: resendEvery)
                guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return nil }
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) >= 0 else { return nil }
            if poller.revents == 0 { continue }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return nil }
            received += buffer[0..<n]
            let text = String(decoding: received, as: UTF8.self)
            if text.contains(expected) { return text }
        }
        return nil
    }
}
