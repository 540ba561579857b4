/// A 16550A-compatible UART as on QEMU's `virt` machine (registers one byte apart).
///
/// Transmission is instantaneous: THR is always empty and every byte written goes to
/// ``output``. Received bytes enter through ``receive(_:)``, which the machine calls only when
/// delivering an input event, so the guest sees them at a deterministic instruction count.
public final class UART16550: MemoryMappedDevice {
    public static let defaultBase: UInt64 = 0x1000_0000
    public let windowSize: UInt64 = 0x100

    /// Receives every byte the guest transmits.
    public var output: (UInt8) -> Void = { _ in }
    /// Called whenever the interrupt line may have changed (wired to the PLIC by the machine).
    public var onInterruptChange: ((Bool) -> Void)?

    private var receiveBuffer: [UInt8] = []
    private var receiveHead = 0
    private var interruptEnable: UInt8 = 0   // IER
    private var lineControl: UInt8 = 0       // LCR
    private var modemControl: UInt8 = 0      // MCR
    private var scratch: UInt8 = 0           // SCR
    private var fifoControl: UInt8 = 0       // FCR (write-only; FIFO enable reflected in IIR)
    private var divisor: UInt16 = 0
    /// THR-empty interrupt latched until IIR is read or THR is written.
    private var transmitterEmptyPending = false

    public init() {}

    /// Bytes received but not yet read by the guest.
    public var pendingInput: Int { receiveBuffer.count - receiveHead }

    /// Queues bytes for the guest to read.
    func receive(_ bytes: some Sequence<UInt8>) {
        receiveBuffer.append(contentsOf: bytes)
        updateInterrupt()
    }

    private var dlab: Bool { lineControl & 0x80 != 0 }

    public var interruptPending: Bool {
        (interruptEnable & 0x01 != 0 && pendingInput > 0) || (interruptEnable & 0x02 != 0 && transmitterEmptyPending)
    }

    private func updateInterrupt() { onInterruptChange?(interruptPending) }

    public func read(offset: UInt64, size: Int) -> UInt64 {
        let value: UInt8
        switch offset {
        case 0:
            if dlab { value = UInt8(truncatingIfNeeded: divisor) } else {
                if receiveHead < receiveBuffer.count {
                    value = receiveBuffer[receiveHead]
                    receiveHead += 1
                    if receiveHead == receiveBuffer.count { receiveBuffer.removeAll(keepingCapacity: true); receiveHead = 0 }
                } else {
                    value = 0
                }
                updateInterrupt()
            }
        case 1: value = dlab ? UInt8(divisor >> 8) : interruptEnable
        case 2:
            let fifo: UInt8 = fifoControl & 1 != 0 ? 0xC0 : 0
            if interruptEnable & 0x01 != 0 && pendingInput > 0 {
                value = fifo | 0x04
            } else if interruptEnable & 0x02 != 0 && transmitterEmptyPending {
                value = fifo | 0x02
                transmitterEmptyPending = false
                updateInterrupt()
            } else {
                value = fifo | 0x01
            }
        case 3: value = lineControl
        case 4: value = modemControl
        case 5: value = 0x60 | (pendingInput > 0 ? 0x01 : 0)   // THRE | TEMT | DR
        case 6: value = 0xB0                                    // DCD, DSR, CTS asserted
        case 7: value = scratch
        default: value = 0
        }
        return UInt64(value)
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        let byte = UInt8(truncatingIfNeeded: value)
        switch offset {
        case 0:
            if dlab { divisor = (divisor & 0xFF00) | UInt16(byte) } else {
                output(byte)
                transmitterEmptyPending = true
                updateInterrupt()
            }
        case 1:
            if dlab { divisor = (divisor & 0x00FF) | (UInt16(byte) << 8) } else {
                let enablingTransmit = byte & 0x02 != 0 && interruptEnable & 0x02 == 0
                interruptEnable = byte & 0x0F
                if enablingTransmit { transmitterEmptyPending = true }
                updateInterrupt()
            }
        case 2:
            fifoControl = byte
            if byte & 0x02 != 0 { receiveBuffer.removeAll(); receiveHead = 0; updateInterrupt() }
        case 3: lineControl = byte
        case 4: modemControl = byte
        case 7: scratch = byte
        default: break
        }
    }
}

// MARK: Snapshot

extension UART16550 {
    /// Largest receive buffer a snapshot may hold (a guard against damaged files).
    static let maximumSavedInput = 1 << 24

    /// Writes the registers and the bytes received but not yet read.
    public func save(to writer: inout StateWriter) {
        writer.writeLengthPrefixed(receiveBuffer[receiveHead...])
        writer.writeUInt8(interruptEnable)
        writer.writeUInt8(lineControl)
        writer.writeUInt8(modemControl)
        writer.writeUInt8(scratch)
        writer.writeUInt8(fifoControl)
        writer.writeUInt16(divisor)
        writer.writeBool(transmitterEmptyPending)
    }

    /// Reads what ``save(to:)`` wrote (all or nothing) and reports the interrupt level.
    public func restore(from reader: inout StateReader) throws(SnapshotError) {
        let input = try reader.readLengthPrefixed(maximum: UART16550.maximumSavedInput, "UART receive buffer")
        let ier = try reader.readUInt8("UART IER")
        guard ier & ~0x0F == 0 else { throw reader.invalid("UART IER is 0x\(String(ier, radix: 16)), only bits 0-3 exist") }
        let lcr = try reader.readUInt8("UART LCR")
        let mcr = try reader.readUInt8("UART MCR")
        let scr = try reader.readUInt8("UART SCR")
        let fcr = try reader.readUInt8("UART FCR")
        let dl = try reader.readUInt16("UART divisor")
        let thre = try reader.readBool("UART THR-empty interrupt")
        receiveBuffer = Array(input)
        receiveHead = 0
        interruptEnable = ier
        lineControl = lcr
        modemControl = mcr
        scratch = scr
        fifoControl = fcr
        divisor = dl
        transmitterEmptyPending = thre
        updateInterrupt()
    }
}
