import RISCV

extension Machine {
    /// The device sections a reboot puts back to their power-on state, in restore order (the
    /// PLIC last, so that its line levels win over what the devices drove while restored).
    static let deviceSections: [SnapshotSection] = [.clint, .uart, .virtio, .plic]

    /// Makes the current RAM contents written by a loader, with the hart and machine flags as
    /// they are now, the machine's ``bootImage``.
    func recordBootImage(_ regions: [BootImage.Region]) {
        bootImage = BootImage(regions: regions, hart: hart.exportState(), servesSBI: servesSBI,
                              htifToHost: htif?.toHost, htifFromHost: htif?.fromHost)
    }

    /// Returns the machine to the state it booted in, as a system reset followed by the same
    /// loader would: RAM zeroed and the ``bootImage`` regions written again; the hart as the
    /// loader left it; every device at its power-on state (virtio transports and their queues,
    /// the UART with its unread input, the PLIC, the CLINT, HTIF, the network card's link and
    /// counters); the reset request cleared.
    ///
    /// What goes on: the instruction count (log positions and checkpoints depend on it), guest
    /// time (it is derived from the count plus an offset, and the offset is kept, so `time` and
    /// `mtime` never go back; the timer compare is reset, so no interrupt is armed), the
    /// guest-visible `minstret` and `mcycle`, which follow the count, the disk and its contents,
    /// the network card's MAC, the entropy device's byte stream (a rebooted guest does not get
    /// its first boot's randomness again), dirty-page tracking (every page the reboot writes is
    /// dirty) and the owner's wiring.
    ///
    /// Deterministic: two equal machines rebooted at the same count stay equal. Call it between
    /// runs. As an input of a recorded or replicated run it is ``MachineInput/reboot``.
    public func reboot() {
        let before = hart.exportState()
        zeroPages(0..<memory.pageCount)
        for region in bootImage.regions { memory.write(region.bytes, at: region.address) }

        var state = bootImage.hart
        state.instructionCount = before.instructionCount
        state.timeOffset = before.timeOffset
        state.instructionsPerTick = before.instructionsPerTick
        hart.importState(state)
        servesSBI = bootImage.servesSBI
        installHTIF(toHost: bootImage.htifToHost, fromHost: bootImage.htifFromHost)

        let source = entropy.source
        for section in Machine.deviceSections {
            var reader = StateReader(powerOnDeviceState[section]!)
            do { try restoreMachineSection(section, from: &reader) } catch {
                preconditionFailure("the machine could not take back its own power-on state: \(error)")
            }
        }
        entropy.source = source
        pendingStop = nil
        isResetRequested = false
    }
}
