import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports for the processes of a fault-injection run, handed out from below the kernel's
/// ephemeral range.
///
/// A node is given its listening ports on its command line, so a port must be chosen before the
/// node binds it, and it must stay free again and again: the node is killed and started anew
/// on the same ports. The kernel's own choice (bind to port 0) comes from the ephemeral range
/// (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 by default), the same range from which
/// every outgoing connection on the host takes its local port. In a busy test run, a connection
/// can take a released port in the window before the node binds it, and the node then fails with
/// "address already in use". The kernel never gives an outgoing connection a port below the
/// ephemeral range. So ports are taken from the 12,000 just below it, and each is handed out once
/// per process. The starting point is random, so that two test processes rarely meet. Each port is
/// still checked by a trial bind, since another program may hold it.
public enum TestPorts {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var next: Int? = nil

    /// The range ports come from: the 12,000 ports just below the ephemeral range. If the
    /// ephemeral range starts too low for that, the 12,000 ports just above 1023 are used.
    static let range: Range<Int> = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        let upper = max(low, 1024 + 12_000)
        return (upper - 12_000)..<upper
    }()

    /// A listening socket on 127.0.0.1 on a port that nobody else in this process was given.
    /// The caller owns the descriptor.
    public static func listen() throws -> (descriptor: Int32, port: Int) {
        for _ in 0..<range.count {
            let port: Int = lock.withLock {
                let candidate = next ?? Int.random(in: range)
                next = candidate + 1 < range.upperBound ? candidate + 1 : range.lowerBound
                return candidate
            }
            if let descriptor = try bindLoopback(port: port) { return (descriptor, port) }
        }
        throw FaultInjectionError.setup("no free port on 127.0.0.1 in \(range.lowerBound)..<\(range.upperBound)")
    }

    /// A port on 127.0.0.1 that is free now and that no other caller in this process gets: bound,
    /// then released for a child process to bind.
    public static func reserve() throws -> Int {
        let (descriptor, port) = try listen()
        close(descriptor)
        return port
    }

    /// A listening socket on 127.0.0.1:`port`, or nil when the port is taken.
    private static func bindLoopback(port: Int) throws -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FaultInjectionError.setup("cannot open a socket: \(String(cString: strerror(errno)))") }
        // Like the nodes' own listeners: a port whose last connection is in TIME_WAIT is free.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
