import RISCV

/// The virtio-mmio transport, version 2 (modern devices only; virtio 1.2 §4.2.2), as one slot of
/// QEMU's `virt` machine (`0x1000_1000 + 0x1000*i`, PLIC source `1 + i`).
///
/// The transport handles everything that is not specific to a device type: identification,
/// feature negotiation, the status register and reset, the split virtqueues and their memory,
/// and the interrupt line. The device type is a ``VirtioDevice``; a slot without one reads as
/// QEMU's empty slots do (magic, version and vendor, device id 0) so Linux skips it.
///
/// Work happens synchronously: a QueueNotify write runs the device, which consumes the available
/// chains and publishes them as used before the write returns. Devices with input from outside
/// (network receive, entropy) complete requests when their owner hands them that input.
///
/// Malformed guest input never reaches host memory outside RAM: a bad queue layout, descriptor
/// index, loop, or buffer outside RAM sets DEVICE_NEEDS_RESET (with a configuration-change
/// interrupt if DRIVER_OK was set, as the specification asks) and the device stops processing
/// until the driver resets it.
public final class VirtioMMIO: MemoryMappedDevice {
    /// Base address of the first slot on QEMU's `virt` machine.
    public static let defaultBase: UInt64 = 0x1000_1000
    /// Distance between slots on `virt`.
    public static let slotStride: UInt64 = 0x1000
    /// Number of slots on `virt`.
    public static let slotCount = 8
    /// PLIC source of the first slot on `virt` (slot `i` uses `firstInterruptSource + i`).
    public static let firstInterruptSource = 1

    /// "virt" in little-endian ASCII.
    public static let magicValue: UInt32 = 0x7472_6976
    /// The transport version: 2, modern only.
    public static let version: UInt32 = 2
    /// Vendor id: QEMU's ("QEMU" in little-endian ASCII), so guests treat the devices as QEMU's.
    public static let vendorID: UInt32 = 0x554D_4551
    /// Transport features offered unless the owner asks otherwise: VERSION_1, INDIRECT_DESC, EVENT_IDX.
    public static let defaultTransportFeatures: UInt64 =
        VirtioFeature.version1 | VirtioFeature.indirectDescriptors | VirtioFeature.eventIndex

    /// The register window: QEMU's virtio-mmio region is 0x200 bytes (the device tree reserves 0x1000).
    public let windowSize: UInt64 = 0x200

    /// Guest RAM, for the queues' DMA.
    public let memory: GuestMemory
    /// The device in this slot (nil for an empty slot).
    public let device: (any VirtioDevice)?
    /// All feature bits offered to the driver.
    public let offeredFeatures: UInt64

    /// Called with the new level whenever the interrupt line changes (high while InterruptStatus
    /// is non-zero). ``connect(to:source:)`` wires it to a PLIC input.
    public var onInterruptChange: ((Bool) -> Void)?

    /// The device status register.
    public private(set) var status: UInt32 = 0
    /// InterruptStatus: bit 0 used buffers, bit 1 configuration change.
    public private(set) var interruptStatus: UInt32 = 0
    /// ConfigGeneration: bumped by ``configurationChanged()``.
    public private(set) var configGeneration: UInt32 = 0
    /// The features the driver accepted at FEATURES_OK (0 before).
    public private(set) var negotiatedFeatures: UInt64 = 0
    /// Why the device set DEVICE_NEEDS_RESET, for diagnostics (nil while healthy).
    public private(set) var failureReason: String?

    private var featuresAccepted = false
    private var deviceFeaturesSelect: UInt32 = 0
    private var driverFeaturesSelect: UInt32 = 0
    private var driverFeatures: UInt64 = 0
    private var queueSelect: UInt32 = 0
    private var queues: [Virtqueue]
    /// Queues with used chains published since their last interrupt decision.
    private var unsignalled: [Bool]
    private var lineLevel = false

    // Register offsets (virtio 1.2 §4.2.2).
    enum Register {
        static let magicValue: UInt64 = 0x000
        static let version: UInt64 = 0x004
        static let deviceID: UInt64 = 0x008
        static let vendorID: UInt64 = 0x00C
        static let deviceFeatures: UInt64 = 0x010
        static let deviceFeaturesSelect: UInt64 = 0x014
        static let driverFeatures: UInt64 = 0x020
        static let driverFeaturesSelect: UInt64 = 0x024
        static let queueSelect: UInt64 = 0x030
        static let queueSizeMaximum: UInt64 = 0x034
        static let queueSize: UInt64 = 0x038
        static let queueReady: UInt64 = 0x044
        static let queueNotify: UInt64 = 0x050
        static let interruptStatus: UInt64 = 0x060
        static let interruptAcknowledge: UInt64 = 0x064
        static let status: UInt64 = 0x070
        static let queueDescriptorLow: UInt64 = 0x080
        static let queueDescriptorHigh: UInt64 = 0x084
        static let queueDriverLow: UInt64 = 0x090
        static let queueDriverHigh: UInt64 = 0x094
        static let queueDeviceLow: UInt64 = 0x0A0
        static let queueDeviceHigh: UInt64 = 0x0A4
        static let sharedMemoryLengthLow: UInt64 = 0x0B0
        static let sharedMemoryLengthHigh: UInt64 = 0x0B4
        static let configGeneration: UInt64 = 0x0FC
        static let configuration: UInt64 = 0x100
    }

    /// Creates a slot holding `device` (or an empty slot) that reaches guest RAM through `memory`.
    /// `transportFeatures` are the transport bits offered besides the device's own;
    /// VIRTIO_F_VERSION_1 is always included.
    public init(memory: GuestMemory, device: (any VirtioDevice)? = nil,
                transportFeatures: UInt64 = VirtioMMIO.defaultTransportFeatures) {
        self.memory = memory
        self.device = device
        let transportMask = VirtioFeature.indirectDescriptors | VirtioFeature.eventIndex
        offeredFeatures = (device?.deviceFeatures ?? 0) | (transportFeatures & transportMask) | VirtioFeature.version1
        let count = device?.queueCount ?? 0
        queues = Array(repeating: Virtqueue(), count: count)
        unsignalled = Array(repeating: false, count: count)
        device?.attach(to: self)
    }

    /// Sends this slot's interrupt line to input `source` of `plic`.
    public func connect(to plic: PLIC, source: Int) {
        onInterruptChange = { [weak plic] high in plic?.setLevel(source: source, high) }
        plic.setLevel(source: source, lineLevel)
    }

    /// Whether the driver has finished initialisation (DRIVER_OK) and the device is healthy.
    public var isLive: Bool {
        status & VirtioStatus.driverOK != 0 && status & VirtioStatus.deviceNeedsReset == 0 && featuresAccepted
    }

    /// Whether the driver accepted `feature` (one or more bits of ``negotiatedFeatures``).
    public func hasNegotiated(_ feature: UInt64) -> Bool { negotiatedFeatures & feature == feature }

    // MARK: Interface for devices

    /// Takes the next chain the driver made available on `queue`, or nil if there is none, the
    /// queue is not ready, or the device is not live. A malformed chain puts the device into
    /// DEVICE_NEEDS_RESET and returns nil.
    public func nextRequest(queue: Int) -> VirtioRequest? {
        guard isLive, queue < queues.count, queues[queue].ready else { return nil }
        do {
            let request = try queues[queue].pop(queue: queue, memory: memory,
                                                indirectAllowed: hasNegotiated(VirtioFeature.indirectDescriptors))
            publishAvailableEvent(queue)
            return request
        } catch {
            fail("queue \(queue): \(error)")
            return nil
        }
    }

    /// Whether `queue` holds chains the device has not taken yet.
    public func hasAvailableRequests(queue: Int) -> Bool {
        guard isLive, queue < queues.count, queues[queue].ready else { return false }
        do { return try queues[queue].pendingCount(memory) > 0 } catch {
            fail("queue \(queue): \(error)")
            return false
        }
    }

    /// Whether the driver may have a buffer waiting in `queue`, without changing any state: a
    /// query the host may make at any moment, unlogged. A ring it cannot read counts as having
    /// one, so that the request that finds it broken is made (and fails the device) where it is
    /// logged.
    public func mayHaveAvailableRequests(queue: Int) -> Bool {
        guard isLive, queue < queues.count, queues[queue].ready else { return false }
        return (try? queues[queue].pendingCount(memory) > 0) ?? true
    }

    /// Puts back `request`, which must be the chain most recently taken from its queue and not
    /// completed; it will be the next one taken.
    public func giveBack(_ request: VirtioRequest) {
        guard request.queue < queues.count, queues[request.queue].ready else { return }
        queues[request.queue].unpop()
    }

    /// Publishes `request` in its queue's used ring with `written` bytes written by the device.
    /// Call ``notifyDriver(queue:)`` after a batch (the transport does so itself after
    /// ``VirtioDevice/queueNotified(_:)`` returns).
    public func complete(_ request: VirtioRequest, written: Int) {
        let q = request.queue
        guard q < queues.count, queues[q].ready, status & VirtioStatus.deviceNeedsReset == 0 else { return }
        queues[q].push(head: request.head, written: UInt32(clamping: written), memory: memory)
        unsignalled[q] = true
    }

    /// Raises the used-buffer interrupt for `queue` if chains were completed since the last
    /// decision and the driver has not suppressed it (VIRTQ_AVAIL_F_NO_INTERRUPT or `used_event`).
    public func notifyDriver(queue: Int) {
        guard queue < queues.count, unsignalled[queue], queues[queue].ready else { return }
        unsignalled[queue] = false
        if queues[queue].shouldInterrupt(memory: memory, eventIndex: hasNegotiated(VirtioFeature.eventIndex)) {
            raise(1)
        }
    }

    /// Reports a change of the device's configuration space: bumps ConfigGeneration and, once the
    /// driver is up, raises the configuration-change interrupt.
    public func configurationChanged() {
        configGeneration &+= 1
        if status & VirtioStatus.driverOK != 0 { raise(2) }
    }

    /// Puts the device into DEVICE_NEEDS_RESET (for errors the device detects itself).
    public func fail(_ reason: String) {
        guard status & VirtioStatus.deviceNeedsReset == 0 else { return }
        failureReason = reason
        status |= VirtioStatus.deviceNeedsReset
        if status & VirtioStatus.driverOK != 0 { raise(2) }
    }

    // MARK: Internals

    private func raise(_ bits: UInt32) {
        interruptStatus |= bits
        updateLine()
    }

    private func updateLine() {
        let level = interruptStatus != 0
        guard level != lineLevel else { return }
        lineLevel = level
        onInterruptChange?(level)
    }

    /// With VIRTIO_F_EVENT_IDX, asks the driver to notify again as soon as it adds anything past
    /// what the device has seen.
    private func publishAvailableEvent(_ queue: Int) {
        guard hasNegotiated(VirtioFeature.eventIndex) else { return }
        queues[queue].setAvailableEvent(queues[queue].availableIndex(memory), memory)
    }

    private func resetDevice() {
        status = 0
        featuresAccepted = false
        negotiatedFeatures = 0
        driverFeatures = 0
        deviceFeaturesSelect = 0
        driverFeaturesSelect = 0
        queueSelect = 0
        failureReason = nil
        for i in queues.indices { queues[i].reset(); unsignalled[i] = false }
        interruptStatus = 0
        updateLine()
        device?.reset()
    }

    private func writeStatus(_ value: UInt32) {
        guard let device else { return }
        if value == 0 { resetDevice(); return }
        var value = value & 0xFF & ~VirtioStatus.deviceNeedsReset
        let newBits = value & ~status
        if newBits & VirtioStatus.featuresOK != 0 && !featuresAccepted {
            let acceptable = driverFeatures & ~offeredFeatures == 0
                && driverFeatures & VirtioFeature.version1 != 0
                && device.acceptsFeatures(driverFeatures)
            if acceptable {
                featuresAccepted = true
                negotiatedFeatures = driverFeatures
            } else {
                value &= ~VirtioStatus.featuresOK   // reads back clear: the driver gives up
            }
        }
        status = value | (status & VirtioStatus.deviceNeedsReset)
        if newBits & VirtioStatus.driverOK != 0 {
            guard featuresAccepted else { fail("DRIVER_OK before FEATURES_OK"); return }
            // Buffers the driver queued (and maybe notified) before DRIVER_OK are served now.
            for queue in queues.indices where queues[queue].ready { serve(queue) }
        }
    }

    private func serve(_ queue: Int) {
        guard let device, isLive, queues[queue].ready else { return }
        publishAvailableEvent(queue)
        device.queueNotified(queue)
        notifyDriver(queue: queue)
    }

    private func writeQueueReady(_ value: UInt32) {
        guard let device, Int(queueSelect) < queues.count else { return }
        let q = Int(queueSelect)
        if value == 0 {
            queues[q].ready = false
            unsignalled[q] = false
            return
        }
        guard !queues[q].ready else { return }
        do {
            try queues[q].enable(memory: memory, maximumSize: device.maximumQueueSize)
        } catch {
            fail("queue \(q): \(error)")
        }
    }

    /// Applies `body` to the selected queue if it exists and is not ready (the layout registers
    /// are ignored while a queue runs).
    private func updateSelectedQueue(_ body: (inout Virtqueue) -> Void) {
        let q = Int(queueSelect)
        guard q < queues.count, !queues[q].ready else { return }
        body(&queues[q])
    }

    private static func setLow(_ register: inout UInt64, _ value: UInt32) {
        register = (register & 0xFFFF_FFFF_0000_0000) | UInt64(value)
    }

    private static func setHigh(_ register: inout UInt64, _ value: UInt32) {
        register = (register & 0xFFFF_FFFF) | UInt64(value) << 32
    }

    // MARK: MemoryMappedDevice

    public func read(offset: UInt64, size: Int) -> UInt64 {
        guard let device else {
            guard size == 4 else { return 0 }
            switch offset {
            case Register.magicValue: return UInt64(Self.magicValue)
            case Register.version: return UInt64(Self.version)
            case Register.vendorID: return UInt64(Self.vendorID)
            default: return 0
            }
        }
        if offset >= Register.configuration {
            let configuration = device.configuration
            let start = Int(offset - Register.configuration)
            var value: UInt64 = 0
            for i in 0..<size where start + i < configuration.count {
                value |= UInt64(configuration[start + i]) << (8 * UInt64(i))
            }
            return value
        }
        guard size == 4 else { return 0 }
        switch offset {
        case Register.magicValue: return UInt64(Self.magicValue)
        case Register.version: return UInt64(Self.version)
        case Register.deviceID: return UInt64(device.deviceID)
        case Register.vendorID: return UInt64(Self.vendorID)
        case Register.deviceFeatures:
            return deviceFeaturesSelect < 2 ? (offeredFeatures >> (32 * UInt64(deviceFeaturesSelect))) & 0xFFFF_FFFF : 0
        case Register.queueSizeMaximum:
            return Int(queueSelect) < queues.count ? UInt64(device.maximumQueueSize) : 0
        case Register.queueReady:
            return Int(queueSelect) < queues.count && queues[Int(queueSelect)].ready ? 1 : 0
        case Register.interruptStatus: return UInt64(interruptStatus)
        case Register.status: return UInt64(status)
        case Register.sharedMemoryLengthLow, Register.sharedMemoryLengthHigh:
            return 0xFFFF_FFFF   // no shared memory regions (length ~0, as QEMU answers)
        case Register.configGeneration: return UInt64(configGeneration)
        default: return 0        // write-only and reserved registers
        }
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard let device else { return }
        if offset >= Register.configuration {
            device.writeConfiguration(offset: Int(offset - Register.configuration), size: size, value: value)
            return
        }
        guard size == 4 else { return }
        let value = UInt32(truncatingIfNeeded: value)
        switch offset {
        case Register.deviceFeaturesSelect: deviceFeaturesSelect = value
        case Register.driverFeatures:
            // Features are frozen once accepted.
            guard !featuresAccepted else { return }
            if driverFeaturesSelect == 0 { Self.setLow(&driverFeatures, value) }
            else if driverFeaturesSelect == 1 { Self.setHigh(&driverFeatures, value) }
        case Register.driverFeaturesSelect: driverFeaturesSelect = value
        case Register.queueSelect: queueSelect = value
        case Register.queueSize: updateSelectedQueue { $0.size = value }
        case Register.queueReady: writeQueueReady(value)
        case Register.queueNotify:
            // Without VIRTIO_F_NOTIFICATION_DATA the value is the queue index.
            let q = Int(value)
            if q < queues.count { serve(q) }
        case Register.interruptAcknowledge:
            interruptStatus &= ~value
            updateLine()
        case Register.status: writeStatus(value)
        case Register.queueDescriptorLow: updateSelectedQueue { Self.setLow(&$0.descriptorAddress, value) }
        case Register.queueDescriptorHigh: updateSelectedQueue { Self.setHigh(&$0.descriptorAddress, value) }
        case Register.queueDriverLow: updateSelectedQueue { Self.setLow(&$0.driverAddress, value) }
        case Register.queueDriverHigh: updateSelectedQueue { Self.setHigh(&$0.driverAddress, value) }
        case Register.queueDeviceLow: updateSelectedQueue { Self.setLow(&$0.deviceAddress, value) }
        case Register.queueDeviceHigh: updateSelectedQueue { Self.setHigh(&$0.deviceAddress, value) }
        default: break           // read-only and reserved registers
        }
    }
}

// MARK: Snapshot

extension VirtioMMIO {
    /// Longest failure reason a snapshot may hold.
    static let maximumSavedReason = 4096
    /// Largest device state a snapshot may hold per slot.
    static let maximumSavedDeviceState = 1 << 20

    /// Writes the transport (status, features, selectors, each queue's layout and indices,
    /// interrupt status, failure state), then the device id and the device's own state.
    public func save(to writer: inout StateWriter) {
        writer.writeUInt32(status)
        writer.writeUInt32(interruptStatus)
        writer.writeUInt32(configGeneration)
        writer.writeBool(featuresAccepted)
        writer.writeUInt64(negotiatedFeatures)
        writer.writeUInt64(driverFeatures)
        writer.writeUInt32(deviceFeaturesSelect)
        writer.writeUInt32(driverFeaturesSelect)
        writer.writeUInt32(queueSelect)
        writer.writeBool(failureReason != nil)
        writer.writeString(failureReason ?? "")
        writer.writeUInt32(UInt32(queues.count))
        for (queue, pendingSignal) in zip(queues, unsignalled) {
            queue.save(to: &writer)
            writer.writeBool(pendingSignal)
        }
        writer.writeUInt32(device?.deviceID ?? 0)
        var deviceState = StateWriter()
        device?.save(to: &deviceState)
        writer.writeLengthPrefixed(deviceState.bytes)
    }

    /// Reads what ``save(to:)`` wrote, all or nothing: the device in the slot must be of the same
    /// type with the same number of queues. Drives the interrupt line to match InterruptStatus.
    public func restore(from reader: inout StateReader) throws(SnapshotError) {
        let newStatus = try reader.readUInt32("virtio status")
        guard newStatus <= 0xFF else { throw reader.invalid("virtio status is 0x\(String(newStatus, radix: 16)), only 8 bits exist") }
        let newInterruptStatus = try reader.readUInt32("virtio interrupt status")
        guard newInterruptStatus <= 3 else { throw reader.invalid("virtio interrupt status is \(newInterruptStatus), only bits 0 and 1 exist") }
        let newGeneration = try reader.readUInt32("virtio config generation")
        let newFeaturesAccepted = try reader.readBool("virtio features-accepted flag")
        let newNegotiated = try reader.readUInt64("virtio negotiated features")
        let newDriverFeatures = try reader.readUInt64("virtio driver features")
        let newDeviceSelect = try reader.readUInt32("virtio device features select")
        let newDriverSelect = try reader.readUInt32("virtio driver features select")
        let newQueueSelect = try reader.readUInt32("virtio queue select")
        let failed = try reader.readBool("virtio failure flag")
        let reason = try reader.readString(maximumLength: VirtioMMIO.maximumSavedReason, "virtio failure reason")
        let queueCount = try reader.readCount(maximum: 1024, "virtio queue count")
        guard queueCount == queues.count else {
            throw reader.invalid("the snapshot's device has \(queueCount) queues, this slot's has \(queues.count)")
        }
        var newQueues: [Virtqueue] = []
        var newUnsignalled: [Bool] = []
        for q in 0..<queueCount {
            newQueues.append(try Virtqueue(from: &reader, memory: memory, maximumSize: device?.maximumQueueSize ?? 0,
                                           name: "virtio queue \(q)"))
            newUnsignalled.append(try reader.readBool("virtio queue \(q) unsignalled flag"))
        }
        let deviceID = try reader.readUInt32("virtio device id")
        guard deviceID == device?.deviceID ?? 0 else {
            throw .deviceMismatch("a virtio slot holds device id \(deviceID) in the snapshot and \(device?.deviceID ?? 0) on this machine")
        }
        var deviceReader = try reader.subReader(
            count: Int(try reader.readCount(maximum: VirtioMMIO.maximumSavedDeviceState, "virtio device state length")),
            "virtio device state")
        try device?.restore(from: &deviceReader)
        try deviceReader.expectEnd("the virtio device state")

        status = newStatus
        interruptStatus = newInterruptStatus
        configGeneration = newGeneration
        featuresAccepted = newFeaturesAccepted
        negotiatedFeatures = newNegotiated
        driverFeatures = newDriverFeatures
        deviceFeaturesSelect = newDeviceSelect
        driverFeaturesSelect = newDriverSelect
        queueSelect = newQueueSelect
        failureReason = failed ? reason : nil
        queues = newQueues
        unsignalled = newUnsignalled
        lineLevel = interruptStatus != 0
        onInterruptChange?(lineLevel)
    }
}
