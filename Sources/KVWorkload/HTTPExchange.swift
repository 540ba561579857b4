import LockstepSupport

/// One blocking HTTP/1.1 request with a deadline (`Connection: close`; the answer is read to the
/// end): for harness code that must not block on Swift concurrency (an etcd member's readiness,
/// a service's health from outside).
public enum HTTPExchange {
    /// An answer: status code and body (chunked transfer decoded).
    public struct Answer: Sendable {
        public let status: Int
        public let body: [UInt8]
    }

    /// Why there is no answer.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends `method path` with `body` to `endpoint` and reads the answer, all within `timeout` seconds.
    public static func request(_ method: String = "POST", to endpoint: Endpoint, path: String, body: [UInt8] = [],
                               timeout: Double = 2) throws(Failure) -> Answer {
        let deadline = monotonicSeconds() + timeout
        var received: [UInt8] = []
        do {
            let stream = try TCPStream(to: endpoint, timeout: timeout)
            defer { stream.close() }
            var request = "\(method) \(path) HTTP/1.1\r\nHost: \(endpoint)\r\nConnection: close\r\n"
            if !body.isEmpty || method == "POST" { request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
            try stream.send(Array((request + "\r\n").utf8) + body, until: deadline)
            while true {
                do { received += try stream.receive(until: deadline) } catch { if case .closed = error { break } else { throw error } }
            }
        } catch {
            throw Failure(description: "\(method) \(path) on \(endpoint): \(error)")
        }
        return try parse(received, what: "\(method) \(path) on \(endpoint)")
    }

    /// Whether a TCP connection to `endpoint` is accepted within `timeout` seconds.
    public static func connects(to endpoint: Endpoint, timeout: Double) throws(Failure) -> Bool {
        do {
            let stream = try TCPStream(to: endpoint, timeout: timeout)
            stream.close()
            return true
        } catch {
            throw Failure(description: "connect to \(endpoint): \(error)")
        }
    }

    static func parse(_ bytes: [UInt8], what: String) throws(Failure) -> Answer {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw Failure(description: "\(what): no complete HTTP header in \(bytes.count) bytes")
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw Failure(description: "\(what): not an HTTP answer: \(lines.first ?? "")")
        }
        let chunked = lines.dropFirst().contains { $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked") }
        var body = Array(bytes[(end + 4)...])
        if chunked { body = try dechunk(body, what: what) }
        return Answer(status: status, body: body)
    }

    static func dechunk(_ bytes: [UInt8], what: String) throws(Failure) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = bytes[index...].indices.first(where: { bytes[$0...].starts(with: [13, 10]) }),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) else {
                throw Failure(description: "\(what): malformed chunked body")
            }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { throw Failure(description: "\(what): truncated chunk") }
            result += bytes[start..<start + size]
            index = start + size + 2
        }
        return result
    }
}
