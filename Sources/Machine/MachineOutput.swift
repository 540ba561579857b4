/// Something the guest sends to the outside world: the only way anything leaves a machine.
/// Every output passes through ``Machine/onOutput``; a replicated machine's outputs are held by
/// the output gate until the backup could reproduce them (ARCHITECTURE.md, "The determinism
/// contract").
public enum MachineOutput: Equatable, Sendable {
    /// Bytes written to the console (UART, SBI console, HTIF), in order.
    case console([UInt8])
    /// An Ethernet frame the network card transmitted (virtio-net header removed).
    case networkFrame([UInt8])

    /// How many bytes it carries.
    public var byteCount: Int {
        switch self {
        case .console(let bytes): return bytes.count
        case .networkFrame(let frame): return frame.count
        }
    }

    /// A short name of the kind, for reports.
    public var kindName: String {
        switch self {
        case .console: return "console bytes"
        case .networkFrame: return "network frame"
        }
    }
}
