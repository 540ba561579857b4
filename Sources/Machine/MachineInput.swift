/// Something from outside the machine that changes what the guest sees: the only way
/// nondeterminism enters a machine. Two equal machines given equal inputs at equal instruction
/// counts stay equal (see ARCHITECTURE.md, "The determinism contract").
public enum MachineInput: Equatable, Sendable {
    /// Bytes arriving on the console UART's receive line.
    case consoleBytes([UInt8])
    /// An Ethernet frame for the network card (dropped, deterministically, if the guest has
    /// posted no receive buffer).
    case networkFrame([UInt8])
    /// The host asks the guest to announce its network identity (VIRTIO_NET_F_GUEST_ANNOUNCE): a
    /// backup that went live, so that switches and peers learn where the guest now is.
    case networkAnnounce
    /// Guest time moves forward by this many ticks without instructions: how long an idle guest
    /// (WFI) waited, as the host decided.
    case timeAdvance(ticks: UInt64)
    /// The machine reboots (``Machine/reboot()``): the guest asked for a reset at this count
    /// and the host decided to reboot it rather than stop. A follower applies it only where its
    /// own machine asked for the reset (``Machine/isResetRequested``).
    case reboot
}

extension Machine {
    /// Delivers an input at the current instruction count.
    public func apply(_ input: MachineInput) {
        switch input {
        case .consoleBytes(let bytes): uart.receive(bytes)
        case .networkFrame(let frame): _ = network.receive(frame: frame)
        case .networkAnnounce: network.announce()
        case .timeAdvance(let ticks): hart.advanceTime(by: ticks)
        case .reboot: reboot()
        }
    }
}
