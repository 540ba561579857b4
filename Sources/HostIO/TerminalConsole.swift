#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The console on the host's terminal, as QEMU's `-nographic` does it: standard input in raw mode
/// (so Ctrl-C and friends reach the guest), with Ctrl-A as an escape key (Ctrl-A X quits, Ctrl-A
/// Ctrl-A sends a literal Ctrl-A), and output to standard output. Works the same when standard
/// input is a pipe.
public final class TerminalConsole: ConsoleBackend {
    private let descriptor: Int32
    private let outputDescriptor: Int32
    private var savedAttributes: termios?
    private var escapePending = false
    /// A pipe whose read end ``poll(timeout:)`` watches beside standard input; ``wake()`` writes
    /// a byte into it.
    private let wakePipe: (read: Int32, write: Int32)
    /// Standard input reached end of file: nothing more will ever arrive.
    public private(set) var isClosed = false

    public init(descriptor: Int32 = 0, outputDescriptor: Int32 = 1) {
        self.descriptor = descriptor
        self.outputDescriptor = outputDescriptor
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        } else {
            ends = [-1, -1]
        }
        wakePipe = (ends[0], ends[1])
        if isatty(descriptor) == 1 {
            var attributes = termios()
            if tcgetattr(descriptor, &attributes) == 0 {
                savedAttributes = attributes
                var raw = attributes
                cfmakeraw(&raw)
                raw.c_oflag |= tcflag_t(OPOST | ONLCR)   // keep "\n" → "\r\n" for our own messages
                tcsetattr(descriptor, TCSANOW, &raw)
            }
        }
    }

    /// Puts the terminal back the way it was. Safe to call more than once.
    public func restore() {
        if var attributes = savedAttributes {
            tcsetattr(descriptor, TCSANOW, &attributes)
            savedAttributes = nil
        }
    }

    deinit {
        restore()
        if wakePipe.read >= 0 { Glibc.close(wakePipe.read); Glibc.close(wakePipe.write) }
    }

    public func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakePipe.write, &byte, 1)   // a full pipe is as good: a wake-up is pending
    }

    /// Empties the wake-up pipe.
    private func drainWakeups() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ read(wakePipe.read, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Input waiting now; a Ctrl-A X typed here is noticed by the next ``poll(timeout:)``... or
    /// lost: the primary of a replicated VM has no terminal (only `lockstep run` does).
    public func takeInput() -> [UInt8] { poll(timeout: 0).bytes }

    public var hasInput: Bool {
        guard !isClosed else { return false }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return Glibc.poll(&entry, 1, 0) > 0
    }

    /// Writes to standard output, all of it (a terminal that cannot take it is gone: dropped).
    public func write(_ bytes: [UInt8]) {
        var start = 0
        while start < bytes.count {
            let written = bytes[start...].withUnsafeBytes { Glibc.write(outputDescriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { break }
            start += written
        }
    }

    /// Waits up to `timeout` seconds (0: just look) for input and returns what arrived.
    public func poll(timeout: Double) -> ConsolePoll {
        // Round up: a wait shorter than a millisecond must not become a busy poll.
        let milliseconds = Int32((max(0, min(timeout, 1e6)) * 1000).rounded(.up))
        // Standard input (unless closed: then only the wake-up pipe) and the wake-up pipe.
        var entries = [pollfd(fd: isClosed ? -1 : descriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
        guard Glibc.poll(&entries, 2, milliseconds) > 0 else { return .bytes([]) }
        if entries[1].revents != 0 { drainWakeups() }
        guard !isClosed, entries[0].revents != 0 else { return .bytes([]) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count <= 0 {
            if count == 0 || (errno != EAGAIN && errno != EINTR) { isClosed = true }
            return .bytes([])
        }
        var forGuest: [UInt8] = []
        for byte in buffer[0..<count] {
            if escapePending {
                escapePending = false
                switch byte {
                case UInt8(ascii: "x"), UInt8(ascii: "X"): return .quit
                case 0x01: forGuest.append(0x01)
                default: break   // unknown escape: ignored, like QEMU's unassigned keys
                }
            } else if byte == 0x01 {
                escapePending = true
            } else {
                forGuest.append(byte)
            }
        }
        return .bytes(forGuest)
    }
}
