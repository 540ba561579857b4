import ELF
import RISCV

/// A complete RISC-V computer laid out like QEMU's `virt` machine: one hart, RAM at 0x8000_0000,
/// a CLINT, a PLIC, a 16550 UART, eight virtio-mmio slots (disks, network, entropy), the SiFive
/// test finisher and, when a bare-metal program defines `tohost`, HTIF. It runs bare-metal ELF
/// programs (``load(elf:)``) or boots Linux (``bootLinux(kernel:initrd:commandLine:)``).
///
/// Execution is deterministic: the machine reads no clock, randomness, socket or file while it
/// runs. Guest time comes from the instruction count; when the hart waits (WFI) for a timer, the
/// machine moves guest time straight to the timer's deadline.
public final class Machine {
    /// Why ``run(instructionLimit:)`` returned.
    public enum StopReason: Equatable, Sendable {
        /// The guest powered off (test finisher or HTIF) with this exit code.
        case exited(code: Int32)
        /// The instruction count reached the limit.
        case instructionLimit
        /// The guest waits for an interrupt that nothing can deliver (WFI with no armed timer).
        case idle
        /// The guest asked for a reset (SBI system reset, the SiFive test device). The machine
        /// stays stopped (``isResetRequested``) until the owner calls ``reboot()``.
        case resetRequested
        /// The guest waits for an interrupt (WFI) and ``skipsIdleTime`` is off: the owner decides
        /// how far guest time moves (``Hart/advanceTime(by:)``) or delivers an input, then runs on.
        case waitingForInterrupt
        /// One of the guest's disks completed a flush, and ``stopsAtDiskFlush`` is on: the owner may wait
        /// (without executing) before running on. Nothing in the machine changes by stopping here.
        case diskFlushed
    }

    /// When true, ``run(instructionLimit:)`` returns ``StopReason/diskFlushed`` right after the
    /// instruction whose disk request was a flush, on any disk (a replicated primary with `--disk-sync both`
    /// waits there for its backup to flush the same writes). A host policy, not guest state.
    public var stopsAtDiskFlush = false

    /// When true (the default, fully deterministic), a guest waiting in WFI for its timer has
    /// guest time jumped straight to the timer's deadline. When false, ``run(instructionLimit:)``
    /// returns ``StopReason/waitingForInterrupt`` so that an interactive owner can let real time
    /// pass (and record how far time moved as an input).
    public var skipsIdleTime = true

    public let configuration: MachineConfiguration
    public let memory: GuestMemory
    public let bus: MemoryMappedBus
    public let hart: Hart
    public let uart: UART16550
    public let clint: CLINT
    public let testDevice: SiFiveTest
    public private(set) var htif: HTIF?
    /// The platform-level interrupt controller (context 0: MEIP, context 1: SEIP).
    public let plic: PLIC
    /// The eight virtio-mmio slots at 0x1000_1000 + 0x1000 * n (PLIC sources 1...8).
    public let virtioSlots: [VirtioMMIO]
    /// The network card (slot 5), with the address ``MachineConfiguration/mac``. Frames it sends
    /// go to ``onOutput``; frames for the guest enter through ``apply(_:)`` as
    /// ``MachineInput/networkFrame(_:)``.
    public let network: VirtioNetwork
    /// The entropy device (slot 6), fed from ``MachineConfiguration/entropySeed``.
    public let entropy: VirtioEntropy
    /// The disks, in the order they were given (``diskSlots``: the first in slot 7, `/dev/vda`
    /// in Linux, the second `/dev/vdb`, ...); empty when the machine was built without one.
    public let disks: [VirtioBlock]
    /// The first disk (`/dev/vda`), if any.
    public var disk: VirtioBlock? { disks.first }
    /// The SBI the machine serves to a kernel booted with ``bootLinux(kernel:initrd:commandLine:)``.
    public let sbi: SupervisorBinaryInterface

    /// The machine's one output sink: every byte the guest writes to its console (UART, SBI
    /// console, HTIF) and every frame its network card sends, in the order the guest produced
    /// them. The owner decides what leaves (see the live runner and the output gate).
    public var onOutput: (MachineOutput) -> Void = { _ in }

    /// Sends console output to `body` and drops every other output (for tools and tests that
    /// only watch the console).
    public func routeConsole(_ body: @escaping (UInt8) -> Void) {
        onOutput = { output in
            if case .console(let bytes) = output { for byte in bytes { body(byte) } }
        }
    }

    /// Hands one console byte to the sink.
    private func emitConsole(_ byte: UInt8) { onOutput(.console([byte])) }

    /// A stop a device asked for during the current run (nil between runs).
    var pendingStop: StopReason?
    /// Whether the guest asked for a reset and the machine has not rebooted since: until
    /// ``reboot()``, ``run(instructionLimit:)`` returns ``StopReason/resetRequested`` at once and
    /// executes nothing (a follower must not run past the reset; the owner decides what happens).
    /// Part of the machine state (snapshots, ``stateHash()``).
    public internal(set) var isResetRequested = false
    /// What the machine booted (see ``BootImage``): ``reboot()`` returns to it.
    public internal(set) var bootImage: BootImage
    /// The devices' state (their snapshot sections) right after the machine was built:
    /// ``reboot()`` puts it back.
    var powerOnDeviceState: [SnapshotSection: [UInt8]] = [:]
    /// Where dirty-page tracking started: the base of the next incremental snapshot.
    var dirtyTrackingBase: SnapshotBase?

    /// Slots of the devices in the virtio-mmio window: where QEMU's `virt` puts a disk, an
    /// entropy device and a network card given in that order (it fills the last slot first), so
    /// the same guest sees the same layout on both.
    public static let entropySlot = 6, networkSlot = 5
    /// The slots of the disks, in the order the disks are given: where QEMU's `virt` puts
    /// `-device virtio-blk-device` given first, then (after the entropy device and the network
    /// card) the others, each in the highest free slot. Linux probes the transports from the
    /// highest address down (the device tree lists them so), so the first disk is `/dev/vda`,
    /// the second `/dev/vdb`, and so on. Slots 1 and 0 stay free for other devices.
    public static let diskSlots = [7, 4, 3, 2]
    /// The most disks a machine has (``diskSlots``).
    public static let maximumDiskCount = diskSlots.count

    /// The serial number (virtio-blk GET_ID; `/sys/block/vdX/serial` in Linux) of the disk at
    /// `index` (from 0, in the order given): `lockstep-disk` for the first, `lockstep-disk2` for
    /// the second, ...
    public static func diskSerial(_ index: Int) -> String {
        index == 0 ? "lockstep-disk" : "lockstep-disk\(index + 1)"
    }

    /// Builds the machine with at most one disk; `disk`, if given, becomes a virtio-blk disk
    /// (`/dev/vda` in Linux).
    public convenience init(configuration: MachineConfiguration = MachineConfiguration(), disk storage: (any BlockStorage)?) throws(MachineError) {
        try self.init(configuration: configuration, disks: storage.map { [$0] } ?? [])
    }

    /// Builds the machine; each of `disks` (at most ``maximumDiskCount``) becomes a virtio-blk
    /// disk, in order (``diskSlots``: `/dev/vda`, `/dev/vdb`, ... in Linux).
    public init(configuration: MachineConfiguration = MachineConfiguration(), disks storages: [any BlockStorage] = []) throws(MachineError) {
        guard storages.count <= Machine.maximumDiskCount else {
            throw .tooManyDisks(storages.count, maximum: Machine.maximumDiskCount)
        }
        let size = configuration.memorySize
        guard size >= 1 << 20, size <= 64 << 30, size % GuestMemory.pageSize == 0 else {
            throw .invalidMemorySize(size)
        }
        guard configuration.mac.count == 6 else { throw .invalidMACAddress(configuration.mac) }
        self.configuration = configuration
        guard let memory = GuestMemory(base: MachineConfiguration.ramBase, size: size) else {
            throw .cannotReserveMemory(size)
        }
        self.memory = memory
        bus = MemoryMappedBus()
        hart = Hart(memory: memory, bus: bus)
        hart.instructionsPerTick = configuration.instructionsPerTick
        uart = UART16550()
        clint = CLINT(hart: hart)
        testDevice = SiFiveTest()
        sbi = SupervisorBinaryInterface(hart: hart)
        plic = PLIC()
        network = VirtioNetwork(mac: configuration.mac)
        entropy = VirtioEntropy(source: SeededEntropySource(seed: configuration.entropySeed))
        let blockDevices = storages.enumerated().map { VirtioBlock(storage: $1, serial: Machine.diskSerial($0)) }
        disks = blockDevices
        var slots: [VirtioMMIO] = []
        for slot in 0..<VirtioMMIO.slotCount {
            let device: (any VirtioDevice)?
            switch slot {
            case Machine.networkSlot: device = network
            case Machine.entropySlot: device = entropy
            default: device = Machine.diskSlots.firstIndex(of: slot).flatMap { $0 < blockDevices.count ? blockDevices[$0] : nil }
            }
            slots.append(VirtioMMIO(memory: memory, device: device))
        }
        virtioSlots = slots
        bus.map(testDevice, at: SiFiveTest.defaultBase)
        bus.map(clint, at: CLINT.defaultBase)
        bus.map(uart, at: UART16550.defaultBase)
        bus.map(plic, at: PLIC.defaultBase)
        plic.connect(to: hart)
        uart.onInterruptChange = { [unowned plic] high in plic.setLevel(source: Int(PlatformDescription.uartIRQ), high) }
        for (slot, transport) in virtioSlots.enumerated() {
            bus.map(transport, at: PlatformDescription.virtioMMIOAddress(slot: slot))
            transport.connect(to: plic, source: Int(PlatformDescription.virtioMMIOIRQ(slot: slot)))
        }
        hart.pc = MachineConfiguration.ramBase
        bootImage = BootImage(regions: [], hart: hart.exportState(), servesSBI: false)
        uart.output = { [unowned self] byte in emitConsole(byte) }
        network.onTransmit = { [unowned self] frame in onOutput(.networkFrame(frame)) }
        testDevice.onRequest = { [unowned self] request in
            switch request {
            case .powerOff(let code): stop(.exited(code: code))
            case .reset: stop(.resetRequested)
            }
        }
        for disk in disks {
            disk.onFlush = { [unowned self] in if stopsAtDiskFlush { stop(.diskFlushed) } }
        }
        sbi.consoleOutput = { [unowned self] byte in emitConsole(byte) }
        sbi.onSystemRequest = { [unowned self] request in
            switch request {
            case .shutdown(let failure): stop(.exited(code: failure ? 1 : 0))
            case .reboot: stop(.resetRequested)
            }
        }
        for section in Machine.deviceSections {
            var writer = StateWriter()
            saveMachineSection(section, to: &writer)
            powerOnDeviceState[section] = writer.bytes
        }
        if Machine.initialEngine != .interpreter { use(Machine.initialEngine) }
    }

    private func stop(_ reason: StopReason) {
        if pendingStop == nil { pendingStop = reason }
        hart.requestStop()
    }

    /// Loads an ELF program into RAM and points the hart at its entry (a0 = hart id 0).
    /// If the program defines `tohost`, HTIF is enabled on it.
    public func load(elf: ELFFile) throws(MachineError) {
        for segment in elf.segments {
            guard memory.contains(segment.physicalAddress, count: segment.memorySize) else {
                throw .segmentOutsideRAM(address: segment.physicalAddress, size: segment.memorySize,
                                         ramBase: memory.base, ramSize: memory.size)
            }
        }
        guard memory.contains(elf.entry, count: 2) else {
            throw .entryOutsideRAM(entry: elf.entry, ramBase: memory.base, ramSize: memory.size)
        }
        for segment in elf.segments {
            memory.write(segment.data, at: segment.physicalAddress)
            if segment.memorySize > segment.fileSize {
                memory.zero(at: segment.physicalAddress + segment.fileSize, count: Int(segment.memorySize - segment.fileSize))
            }
        }
        hart.pc = elf.entry
        hart.setRegister(10, 0)
        if let toHost = elf.symbol(named: "tohost"), memory.contains(toHost, count: 8) {
            installHTIF(toHost: toHost, fromHost: elf.symbol(named: "fromhost"))
        }
        recordBootImage(elf.segments.map { BootImage.Region(address: $0.physicalAddress, bytes: $0.data) })
    }

    /// Enables HTIF on the word `toHost` (replacing any HTIF there was), or removes it (nil).
    func installHTIF(toHost: UInt64?, fromHost: UInt64?) {
        memory.removeAllWatches()
        memory.watchHandler = nil
        htif = nil
        guard let toHost else { return }
        let device = HTIF(memory: memory, toHost: toHost, fromHost: fromHost)
        device.output = { [unowned self] byte in emitConsole(byte) }
        device.onExit = { [unowned self] code in stop(.exited(code: code)) }
        memory.watchHandler = { [unowned device] address in
            if address == device.toHost { device.toHostWritten() }
        }
        memory.watch(toHost)
        htif = device
    }

    /// Whether the machine serves SBI calls from S-mode (a kernel booted with
    /// ``bootLinux(kernel:initrd:commandLine:)``) instead of letting them trap to M-mode.
    public internal(set) var servesSBI: Bool {
        get { hart.supervisorCallHandler != nil }
        set { hart.supervisorCallHandler = newValue ? { [unowned self] _ in sbi.handleCall() } : nil }
    }

    /// Instructions retired since the machine was created (reboots included).
    public var instructionCount: UInt64 { hart.instructionCount }

    /// Runs until the guest powers off or asks for a reset, the instruction count reaches
    /// `instructionLimit` (counted from the machine's creation; a reboot does not reset it), or
    /// the guest idles forever. After a reset request it executes nothing until ``reboot()``.
    public func run(instructionLimit: UInt64 = .max) -> StopReason {
        if isResetRequested { return .resetRequested }
        while true {
            if let reason = takePendingStop() { return reason }
            switch hart.run(until: instructionLimit) {
            case .limit:
                if let reason = takePendingStop() { return reason }
                return .instructionLimit
            case .stopRequested:
                continue
            case .waitingForInterrupt:
                if !skipsIdleTime { return .waitingForInterrupt }
                // Deterministic idling: jump guest time to the next timer deadline.
                guard let ticks = hart.ticksUntilTimerInterrupt else { return .idle }
                hart.advanceTime(by: ticks)
                if ticks == 0 && hart.run(until: hart.instructionCount) == .waitingForInterrupt {
                    return .idle   // the timer is due but masked in a way nothing will change
                }
            }
        }
    }

    /// The stop a device asked for during this run, if any (a reset request sticks).
    private func takePendingStop() -> StopReason? {
        guard let reason = pendingStop else { return nil }
        pendingStop = nil
        if reason == .resetRequested { isResetRequested = true }
        if reason == .diskFlushed { settleInstructionBoundary() }
        return reason
    }

    /// Finishes the instruction boundary a stop request cut short, executing nothing: a hart
    /// stopped by a device returns before it looks at interrupts, but one that runs to the same
    /// count as a limit (a follower replaying this run, which does not stop at flushes) takes a
    /// pending interrupt there before it returns. Taking it here too leaves both in one state at
    /// that count, so a checkpoint or a snapshot taken at the stop matches the follower's.
    private func settleInstructionBoundary() {
        let count = hart.instructionCount
        while hart.run(until: count) == .stopRequested {}
    }
}
