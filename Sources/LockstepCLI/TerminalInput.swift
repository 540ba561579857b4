#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HostIO

/// Console input from the host's standard input, as QEMU's `-nographic` does it: the terminal in
/// raw mode (so Ctrl-C and friends reach the guest), and Ctrl-A as an escape key: Ctrl-A X quits,
/// Ctrl-A Ctrl-A sends a literal Ctrl-A. Works the same when standard input is a pipe.
final class TerminalInput: ConsoleInput {
    private let descriptor: Int32
    private var savedAttributes: termios?
    private var escapePending = false
    /// Standard input reached end of file: nothing more will ever arrive.
    private(set) var isClosed = false

    init(descriptor: Int32 = 0) {
        self.descriptor = descriptor
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
    func restore() {
        if var attributes = savedAttributes {
            tcsetattr(descriptor, TCSANOW, &attributes)
            savedAttributes = nil
        }
    }

    deinit { restore() }

    /// Waits up to `timeout` seconds (0: just look) for input and returns what arrived.
    func poll(timeout: Double) -> ConsolePoll {
        if isClosed {
            if timeout > 0 { usleep(UInt32(min(timeout, 1) * 1e6)) }
            return .bytes([])
        }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        // Round up: a wait shorter than a millisecond must not become a busy poll.
        let milliseconds = Int32((max(0, min(timeout, 1e6)) * 1000).rounded(.up))
        guard Glibc.poll(&entry, 1, milliseconds) > 0 else { return .bytes([]) }
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
