import RISCV

/// The core-local interruptor of QEMU's `virt` machine (SiFive CLINT layout) for one hart:
/// `msip` at 0x0, `mtimecmp` at 0x4000, `mtime` at 0xBFF8. Time is the hart's guest time,
/// derived from the instruction count, so reading it is deterministic.
public final class CLINT: MemoryMappedDevice {
    public static let defaultBase: UInt64 = 0x0200_0000
    public let windowSize: UInt64 = 0x1_0000
    unowned let hart: Hart
    private var msip: UInt32 = 0

    public init(hart: Hart) { self.hart = hart }

    public func read(offset: UInt64, size: Int) -> UInt64 {
        switch offset {
        case 0x0 where size == 4: return UInt64(msip)
        case 0x4000...0x4007: return Self.extract(hart.timerCompare, offset: offset - 0x4000, size: size)
        case 0xBFF8...0xBFFF: return Self.extract(hart.time, offset: offset - 0xBFF8, size: size)
        default: return 0
        }
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        switch offset {
        case 0x0 where size == 4:
            msip = UInt32(value & 1)
            hart.setInterruptPending(.machineSoftware, msip != 0)
        case 0x4000...0x4007:
            hart.timerCompare = Self.insert(value, into: hart.timerCompare, offset: offset - 0x4000, size: size)
        case 0xBFF8...0xBFFF:
            hart.setTime(Self.insert(value, into: hart.time, offset: offset - 0xBFF8, size: size))
        default:
            break
        }
    }

    /// Bytes [offset, offset+size) of a 64-bit register.
    static func extract(_ register: UInt64, offset: UInt64, size: Int) -> UInt64 {
        let shifted = register >> (offset * 8)
        return size >= 8 ? shifted : shifted & ((1 << UInt64(size * 8)) - 1)
    }

    /// `register` with bytes [offset, offset+size) replaced by the low bytes of `value`.
    static func insert(_ value: UInt64, into register: UInt64, offset: UInt64, size: Int) -> UInt64 {
        let width = min(UInt64(size) * 8, 64 - offset * 8)
        let mask: UInt64 = (width >= 64 ? ~0 : ((1 << width) - 1)) << (offset * 8)
        return (register & ~mask) | ((value << (offset * 8)) & mask)
    }
}

// MARK: Snapshot

extension CLINT {
    /// Writes the CLINT's own state: `msip` (mtime and mtimecmp belong to the hart).
    public func save(to writer: inout StateWriter) {
        writer.writeUInt32(msip)
    }

    /// Reads what ``save(to:)`` wrote and drives the hart's MSIP line to match.
    public func restore(from reader: inout StateReader) throws(SnapshotError) {
        let value = try reader.readUInt32("CLINT msip")
        guard value <= 1 else { throw reader.invalid("CLINT msip is \(value), expected 0 or 1") }
        msip = value
        hart.setInterruptPending(.machineSoftware, msip != 0)
    }
}
