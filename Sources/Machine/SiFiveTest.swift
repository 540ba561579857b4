import RISCV

/// The SiFive test finisher of QEMU's `virt` machine: a 32-bit write of 0x5555 powers off with
/// exit code 0, `(code << 16) | 0x3333` powers off with `code`, 0x7777 requests a reset.
public final class SiFiveTest: MemoryMappedDevice {
    public static let defaultBase: UInt64 = 0x0010_0000
    public let windowSize: UInt64 = 0x1000

    /// What the guest asked for.
    public enum Request: Equatable, Sendable {
        case powerOff(exitCode: Int32)
        case reset
    }

    /// Called when the guest writes a command.
    public var onRequest: ((Request) -> Void)?

    public init() {}

    public func read(offset: UInt64, size: Int) -> UInt64 { 0 }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard offset == 0 else { return }
        let status = value & 0xFFFF
        let code = Int32(truncatingIfNeeded: (value >> 16) & 0xFFFF)
        switch status {
        case 0x5555: onRequest?(.powerOff(exitCode: 0))
        case 0x3333: onRequest?(.powerOff(exitCode: code))
        case 0x7777: onRequest?(.reset)
        default: break
        }
    }
}
