#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A machine's console reachable over TCP, like QEMU's `-serial tcp::PORT,server,nowait`: a
/// listening socket that accepts any number of clients. What the clients send is merged into the
/// guest's console input in the order it is read; what the guest prints goes to every connected
/// client (and nowhere when none is connected). A client should send each line with one write, so
/// that lines from two clients are not interleaved in the middle.
///
/// Every socket is non-blocking and nothing here blocks the caller except ``poll(timeout:)``, which
/// waits at most its timeout: the machine's run loop is synchronous and calls it between slices of
/// execution. A client that does not read what the guest prints is dropped once
/// ``maximumPendingBytes`` are waiting for it, so that it can never stall the machine.
public final class TCPConsole: ConsoleInput {
    /// The address listened on, as given (a numeric IPv4 or IPv6 address).
    public let host: String
    /// The port listened on: the one asked for, or the one the system picked for port 0.
    public let port: UInt16
    /// How many bytes may wait for one slow client before that client is dropped.
    public let maximumPendingBytes: Int

    private var listener: Int32
    private var clients: [Client] = []

    private struct Client {
        let descriptor: Int32
        /// Output that the client's socket buffer had no room for yet.
        var pending: [UInt8] = []
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var address: String { Self.address(host: host, port: port) }

    /// How many clients are connected.
    public var clientCount: Int { clients.count }

    /// A TCP console is never closed: a new client can always connect.
    public var isClosed: Bool { false }

    /// Listens on `host:port`: a numeric IPv4 or IPv6 address (0.0.0.0 or :: for every interface)
    /// and a port (0: any free port, see ``port``).
    public init(host: String = "127.0.0.1", port: UInt16 = 0, maximumPendingBytes: Int = 1 << 20) throws(TCPConsoleError) {
        let requested = Self.address(host: host, port: port)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &found)
        guard status == 0, let info = found else {
            throw .invalidAddress(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(info) }

        let descriptor = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .systemCall("socket", address: requested, reason: String(cString: strerror(errno))) }
        func fail(_ call: String) -> TCPConsoleError {
            let code = errno
            _ = Glibc.close(descriptor)
            switch code {
            case EADDRINUSE: return .portInUse(address: requested)
            case EACCES: return .permissionDenied(address: requested)
            case EADDRNOTAVAIL: return .invalidAddress(host: host, reason: "no interface of this host has that address")
            default: return .systemCall(call, address: requested, reason: String(cString: strerror(code)))
            }
        }
        // Like QEMU: a new process may listen again at once while old connections linger in TIME_WAIT
        // (two listeners on one port are still refused).
        var one: Int32 = 1
        guard setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else { throw fail("setsockopt") }
        guard bind(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { throw fail("bind") }
        guard listen(descriptor, 16) == 0 else { throw fail("listen") }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw fail("getsockname") }
        self.host = host
        self.port = Self.port(of: bound)
        self.maximumPendingBytes = max(1, maximumPendingBytes)
        listener = descriptor
    }

    deinit { close() }

    /// Stops listening and disconnects every client. Later polls find nothing; writes go nowhere.
    public func close() {
        disconnectClients()
        if listener >= 0 {
            _ = Glibc.close(listener)
            listener = -1
        }
    }

    /// Disconnects every connected client (they may connect again).
    public func disconnectClients() {
        for client in clients { _ = Glibc.close(client.descriptor) }
        clients.removeAll()
    }

    /// Waits up to `timeout` seconds for input and returns the bytes received from all clients.
    /// Accepts new clients, sends output that was waiting, and drops clients that closed their end.
    public func poll(timeout: Double) -> ConsolePoll {
        let milliseconds = Int32((max(0, min(timeout, 1e6)) * 1000).rounded(.up))
        guard listener >= 0 else {
            if milliseconds > 0 { usleep(UInt32(min(milliseconds, 1000)) * 1000) }
            return .bytes([])
        }
        var entries = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        for client in clients {
            let events = Int16(POLLIN) | (client.pending.isEmpty ? 0 : Int16(POLLOUT))
            entries.append(pollfd(fd: client.descriptor, events: events, revents: 0))
        }
        guard Glibc.poll(&entries, nfds_t(entries.count), milliseconds) > 0 else { return .bytes([]) }
        var received: [UInt8] = []
        var gone: [Int] = []
        for index in clients.indices {
            let events = entries[index + 1].revents
            guard events != 0 else { continue }
            var alive = true
            if events & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                alive = receive(from: clients[index].descriptor, into: &received)
            }
            if alive && events & Int16(POLLOUT) != 0 {
                alive = send(&clients[index])
            }
            if !alive { gone.append(index) }
        }
        for index in gone.reversed() { drop(at: index) }
        if entries[0].revents & Int16(POLLIN) != 0 { acceptClients() }
        return .bytes(received)
    }

    /// Sends `bytes` to every connected client without waiting: what a client's socket has no room
    /// for waits for the next poll, and a client with more than ``maximumPendingBytes`` waiting is
    /// dropped.
    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        var gone: [Int] = []
        for index in clients.indices {
            clients[index].pending.append(contentsOf: bytes)
            if !send(&clients[index]) || clients[index].pending.count > maximumPendingBytes { gone.append(index) }
        }
        for index in gone.reversed() { drop(at: index) }
    }

    // MARK: - Sockets

    private func acceptClients() {
        while true {
            let descriptor = accept(listener, nil, nil)
            guard descriptor >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return   // EAGAIN: no more waiting; anything else (EMFILE): try again on a later poll
            }
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            // Console lines are small: send each at once instead of waiting for more (Nagle).
            var one: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            clients.append(Client(descriptor: descriptor))
        }
    }

    /// Reads everything the client has sent; false when it has closed its end or failed.
    private func receive(from descriptor: Int32, into received: inout [UInt8]) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
                continue
            }
            if count < 0 && errno == EINTR { continue }
            return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
        }
    }

    /// Sends what is pending for `client` as far as its socket takes it; false when the client is gone.
    private func send(_ client: inout Client) -> Bool {
        var sent = 0
        defer { client.pending.removeFirst(sent) }
        while sent < client.pending.count {
            let count = client.pending[sent...].withUnsafeBytes {
                Glibc.send(client.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if count > 0 {
                sent += count
                continue
            }
            if count < 0 && errno == EINTR { continue }
            return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
        }
        return true
    }

    private func drop(at index: Int) {
        _ = Glibc.close(clients[index].descriptor)
        clients.remove(at: index)
    }

    private static func address(host: String, port: UInt16) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func port(of address: sockaddr_storage) -> UInt16 {
        let isIPv6 = address.ss_family == sa_family_t(AF_INET6)
        return withUnsafePointer(to: address) { pointer in
            if isIPv6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }
}
