import FaultInjection
import Foundation
import LockstepSupport

/// A one-connection TCP server that misbehaves on purpose: it accepts one client, waits for its
/// first bytes, then does what the test asks (close, reset, answer garbage, say nothing).
final class ScriptedTCPServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// Close the connection in order (the client reads end of stream).
        case close
        /// Close with SO_LINGER 0: the kernel sends RST.
        case reset
        /// Answer these bytes and keep the connection open.
        case answer([UInt8])
        /// Keep the connection open and say nothing.
        case silence
    }

    let endpoint: Endpoint
    private let listener: Int32
    private let lock = NSLock()
    private var client: Int32 = -1

    init(_ behaviour: Behaviour) throws {
        let (descriptor, port) = try TestPorts.listen()
        listener = descriptor
        endpoint = Endpoint(host: "127.0.0.1", port: UInt16(port))
        Thread.detachNewThread { [self] in serve(behaviour) }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        lock.withLock {
            if client >= 0 { close(client) }
        }
    }

    private func serve(_ behaviour: Behaviour) {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return }
        lock.withLock { client = fd }
        var buffer = [UInt8](repeating: 0, count: 4096)
        _ = read(fd, &buffer, buffer.count)
        switch behaviour {
        case .close:
            shutdown(fd, Int32(SHUT_RDWR))
        case .reset:
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            lock.withLock {
                close(fd)
                client = -1
            }
        case .answer(let bytes):
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        case .silence:
            break
        }
    }
}
