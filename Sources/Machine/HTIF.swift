import RISCV

/// The Host-Target Interface used by the standard RISC-V test programs: the guest writes a
/// command to the 8-byte word `tohost` (found by ELF symbol) and the host answers in `fromhost`.
///
/// Supported: `(code << 1) | 1` exits with `code`; device 1 command 1 prints the low byte;
/// device 0 command 0 with a pointer to a `magic_mem` block runs the `write` (64) and `exit` (93)
/// system calls used by the tests' printf.
public final class HTIF {
    public let toHost: UInt64
    public let fromHost: UInt64?
    unowned let memory: GuestMemory
    /// Console output.
    public var output: (UInt8) -> Void = { _ in }
    /// Called with the exit code the guest asked for.
    public var onExit: ((Int32) -> Void)?

    public init(memory: GuestMemory, toHost: UInt64, fromHost: UInt64?) {
        self.memory = memory
        self.toHost = toHost
        self.fromHost = fromHost
    }

    /// Handles a store that touched `tohost`.
    public func toHostWritten() {
        let command = memory.load64(at: toHost)
        guard command != 0 else { return }
        let device = command >> 56
        let function = (command >> 48) & 0xFF
        let payload = command & 0xFFFF_FFFF_FFFF
        var reply: UInt64 = 1
        switch (device, function) {
        case (0, 0) where payload & 1 == 1:
            onExit?(Int32(truncatingIfNeeded: payload >> 1))
            return
        case (0, 0):
            reply = systemCall(at: payload)
        case (1, 1):
            output(UInt8(truncatingIfNeeded: payload))
            reply = (1 << 56) | (1 << 48)
        default:
            break
        }
        memory.store64(0, at: toHost)
        if let fromHost, memory.contains(fromHost, count: 8) { memory.store64(reply, at: fromHost) }
    }

    /// Runs a proxied system call described by eight 64-bit words at `address`.
    private func systemCall(at address: UInt64) -> UInt64 {
        guard memory.contains(address, count: 64) else { return 1 }
        let number = memory.load64(at: address)
        let arguments = (1...3).map { memory.load64(at: address + UInt64($0) * 8) }
        var result: UInt64 = UInt64(bitPattern: -38)   // -ENOSYS
        switch number {
        case 64:   // write(fd, buffer, length)
            let length = arguments[2]
            if memory.contains(arguments[1], count: length), length < 1 << 24 {
                for byte in memory.read(at: arguments[1], count: Int(length)) { output(byte) }
                result = length
            } else {
                result = UInt64(bitPattern: -14)   // -EFAULT
            }
        case 93:   // exit(code)
            onExit?(Int32(truncatingIfNeeded: arguments[0]))
            result = 0
        default:
            break
        }
        memory.store64(result, at: address)
        return 1
    }
}
