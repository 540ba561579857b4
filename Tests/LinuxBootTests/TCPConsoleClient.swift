import Foundation

/// A test's connection to `lockstep run --console-port`: sends lines and waits for text, like
/// ``ConsoleSession`` does for pipes.
final class TCPConsoleClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(descriptor)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func send(line: String) {
        _ = Array((line + "\n").utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Waits until `pattern` has arrived; returns everything up to it (and forgets it).
    @discardableResult
    func expect(_ pattern: String, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let text = String(decoding: buffer, as: UTF8.self)
            if let range = text.range(of: pattern) {
                buffer = Array(text[range.upperBound...].utf8)
                return String(text[..<range.upperBound])
            }
            guard Date() < deadline else {
                throw Failure(description: "no \"\(pattern)\" on the TCP console within \(timeout) s; got:\n\(text.suffix(1500))")
            }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { buffer += chunk[0..<count] }
            if count == 0 { throw Failure(description: "the TCP console closed; got:\n\(text.suffix(1500))") }
        }
    }
}
