import LockstepSupport

/// A TCP connection to a console port that sends and receives lines, with deadlines on the
/// monotonic clock: no call waits past its deadline.
final class LineConnection {
    /// Why a connection failed (the client then tries the endpoints again).
    typealias Problem = TCPStream.Problem

    private let stream: TCPStream
    private var received: [UInt8] = []

    var endpoint: Endpoint { stream.endpoint }

    /// Connects to `endpoint`, giving up after `timeout` seconds.
    init(to endpoint: Endpoint, timeout: Double) throws(Problem) {
        stream = try TCPStream(to: endpoint, timeout: timeout)
    }

    /// Closes the connection (idempotent).
    func close() {
        stream.close()
    }

    /// Sends `line` and a newline.
    func send(_ line: String, until deadline: Double) throws(Problem) {
        try stream.send(Array((line + "\n").utf8), until: deadline)
    }

    /// The next line received (without "\r" and "\n"), waiting until `deadline` at most.
    func readLine(until deadline: Double) throws(Problem) -> String {
        while true {
            if let newline = received.firstIndex(of: 10) {
                let line = String(decoding: received[..<newline], as: UTF8.self)
                received.removeSubrange(...newline)
                return String(line.trimmingSpaces)
            }
            received += try stream.receive(until: deadline)
        }
    }
}
