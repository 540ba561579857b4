import Foundation

/// Wakes a thread that waits in `poll(2)`: the thread polls ``readDescriptor`` with its other
/// descriptors, any thread calls ``wake()``. A connected pair of Unix datagram sockets rather than
/// a pipe or an eventfd, because Swift's Glibc module imports neither `pipe2` nor `eventfd`, and
/// `socketpair` sets close-on-exec and non-blocking atomically (no descriptor leaks into a process
/// another thread starts meanwhile).
final class WakePipe: @unchecked Sendable {
    /// The end to poll for reading.
    let readDescriptor: Int32
    private let writeDescriptor: Int32
    private let lock = NSLock()
    private var isClosed = false   // guarded by lock

    init() throws(NetworkBackendError) {
        var descriptors: [Int32] = [-1, -1]
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &descriptors) == 0 else {
            throw .systemCall("socketpair", reason: String(cString: strerror(errno)))
        }
        readDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
    }

    deinit { close() }

    /// Makes ``readDescriptor`` readable. Never blocks: when wake-ups are pending already (the
    /// socket's buffer is full) one more is not needed. Does nothing once closed, so that a closed
    /// descriptor, whose number the system may give to another file, is never written.
    func wake() {
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return }
        var byte: UInt8 = 1
        _ = Glibc.send(writeDescriptor, &byte, 1, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
    }

    /// Reads every pending wake-up (call from the waiting thread after it woke).
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ recv(readDescriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
    }

    /// Closes both ends (once the waiting thread stopped polling them).
    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(readDescriptor)
        Glibc.close(writeDescriptor)
    }
}
