import RISCV

/// Why the transport stopped trusting a queue (the device then sets DEVICE_NEEDS_RESET).
enum VirtqueueError: Error, Equatable {
    /// The rings do not fit in RAM, are misaligned, or the size is not a power of two.
    case invalidLayout
    /// The driver moved `avail.idx` more than a queue's worth past what the device consumed.
    case availableIndexJump
    /// A descriptor index is not below the (queue or indirect table) size.
    case descriptorIndexOutOfRange
    /// Following `next` visited more descriptors than the table holds.
    case descriptorLoop
    /// A buffer lies (partly) outside RAM.
    case bufferOutsideRAM
    /// A readable descriptor follows a writable one.
    case readableAfterWritable
    /// An indirect descriptor without VIRTIO_F_INDIRECT_DESC, inside an indirect table, or with a
    /// bad table size.
    case invalidIndirect
    /// The chain is 4 GiB or longer.
    case chainTooLong
}

/// One split virtqueue (virtio 1.2 §2.7) as the device sees it: the driver-programmed layout plus
/// the device's private indices. Ring memory is re-read on every use; nothing the guest writes
/// there can make the device read or write outside RAM.
struct Virtqueue {
    static let descriptorSize: UInt64 = 16
    static let flagNext: UInt16 = 1
    static let flagWrite: UInt16 = 2
    static let flagIndirect: UInt16 = 4
    static let availFlagNoInterrupt: UInt16 = 1
    /// Largest indirect table accepted (QEMU's VIRTQUEUE_MAX_SIZE).
    static let maximumIndirectEntries: UInt64 = 1024

    // Programmed by the driver through the MMIO registers.
    var size: UInt32 = 0
    var ready = false
    var descriptorAddress: UInt64 = 0
    var driverAddress: UInt64 = 0     // the available ring
    var deviceAddress: UInt64 = 0     // the used ring

    // Device state.
    /// Next available-ring slot the device will consume.
    var lastAvailableIndex: UInt16 = 0
    /// The used index the device has published.
    var usedIndex: UInt16 = 0
    /// Used index at the last interrupt decision (for VIRTIO_F_EVENT_IDX).
    var signalledUsedIndex: UInt16 = 0
    var signalledUsedValid = false

    /// Forgets everything (device reset).
    mutating func reset() { self = Virtqueue() }

    /// Checks the layout the driver programmed and starts the device's indices from zero.
    mutating func enable(memory: GuestMemory, maximumSize: Int) throws(VirtqueueError) {
        guard hasValidLayout(memory: memory, maximumSize: maximumSize) else { throw .invalidLayout }
        lastAvailableIndex = 0
        usedIndex = 0
        signalledUsedIndex = 0
        signalledUsedValid = false
        ready = true
    }

    /// Whether the programmed size and ring addresses are usable: a power of two up to the
    /// device's maximum, aligned rings that lie in RAM.
    func hasValidLayout(memory: GuestMemory, maximumSize: Int) -> Bool {
        let n = UInt64(size)
        return n > 0 && n <= UInt64(min(maximumSize, 32768)) && size & (size - 1) == 0
            && descriptorAddress & 15 == 0 && driverAddress & 1 == 0 && deviceAddress & 3 == 0
            && memory.contains(descriptorAddress, count: n * Virtqueue.descriptorSize)
            && memory.contains(driverAddress, count: 6 + 2 * n)
            && memory.contains(deviceAddress, count: 6 + 8 * n)
    }

    // MARK: Ring fields

    func availableFlags(_ memory: GuestMemory) -> UInt16 {
        UInt16(truncatingIfNeeded: memory.loadLittleEndian(at: driverAddress, size: 2))
    }

    func availableIndex(_ memory: GuestMemory) -> UInt16 {
        UInt16(truncatingIfNeeded: memory.loadLittleEndian(at: driverAddress + 2, size: 2))
    }

    /// `used_event`, after the available ring.
    func usedEvent(_ memory: GuestMemory) -> UInt16 {
        UInt16(truncatingIfNeeded: memory.loadLittleEndian(at: driverAddress + 4 + 2 * UInt64(size), size: 2))
    }

    /// Writes `avail_event`, after the used ring.
    func setAvailableEvent(_ value: UInt16, _ memory: GuestMemory) {
        memory.storeLittleEndian(UInt64(value), at: deviceAddress + 4 + 8 * UInt64(size), size: 2)
    }

    /// Number of chains the driver has made available and the device has not consumed.
    func pendingCount(_ memory: GuestMemory) throws(VirtqueueError) -> Int {
        let count = availableIndex(memory) &- lastAvailableIndex
        guard UInt32(count) <= size else { throw .availableIndexJump }
        return Int(count)
    }

    // MARK: Consuming and returning chains

    /// Takes the next available chain, or nil if there is none.
    mutating func pop(queue: Int, memory: GuestMemory, indirectAllowed: Bool) throws(VirtqueueError) -> VirtioRequest? {
        guard try pendingCount(memory) > 0 else { return nil }
        let slot = driverAddress + 4 + 2 * UInt64(lastAvailableIndex % UInt16(truncatingIfNeeded: size))
        let head = UInt16(truncatingIfNeeded: memory.loadLittleEndian(at: slot, size: 2))
        let request = try walk(queue: queue, head: head, memory: memory, indirectAllowed: indirectAllowed)
        lastAvailableIndex &+= 1
        return request
    }

    /// Gives back the chain most recently popped (it will be popped again).
    mutating func unpop() { lastAvailableIndex &-= 1 }

    /// Follows the chain starting at `head`, validating every descriptor.
    func walk(queue: Int, head: UInt16, memory: GuestMemory, indirectAllowed: Bool) throws(VirtqueueError) -> VirtioRequest {
        var tableAddress = descriptorAddress
        var tableCount = UInt64(size)
        var inIndirectTable = false
        var index = UInt64(head)
        var visited: UInt64 = 0
        var total: UInt64 = 0
        var readable: [VirtioRequest.Segment] = []
        var writable: [VirtioRequest.Segment] = []
        while true {
            guard index < tableCount else { throw .descriptorIndexOutOfRange }
            visited += 1
            guard visited <= tableCount else { throw .descriptorLoop }
            let at = tableAddress + index * Virtqueue.descriptorSize
            let address = memory.loadLittleEndian(at: at, size: 8)
            let length = memory.loadLittleEndian(at: at + 8, size: 4)
            let flags = UInt16(truncatingIfNeeded: memory.loadLittleEndian(at: at + 12, size: 2))
            let next = UInt16(truncatingIfNeeded: memory.loadLittleEndian(at: at + 14, size: 2))

            if flags & Virtqueue.flagIndirect != 0 {
                // The table replaces the rest of the chain (a NEXT flag beside INDIRECT is ignored,
                // as QEMU does).
                guard indirectAllowed, !inIndirectTable, length > 0, length % Virtqueue.descriptorSize == 0,
                      length / Virtqueue.descriptorSize <= Virtqueue.maximumIndirectEntries else {
                    throw .invalidIndirect
                }
                guard memory.contains(address, count: length) else { throw .bufferOutsideRAM }
                tableAddress = address
                tableCount = length / Virtqueue.descriptorSize
                inIndirectTable = true
                index = 0
                visited = 0
                continue
            }

            guard memory.contains(address, count: length) else { throw .bufferOutsideRAM }
            total += length
            guard total < 1 << 32 else { throw .chainTooLong }
            let segment = VirtioRequest.Segment(address: address, length: Int(length))
            if flags & Virtqueue.flagWrite != 0 {
                writable.append(segment)
            } else {
                guard writable.isEmpty else { throw .readableAfterWritable }
                readable.append(segment)
            }
            guard flags & Virtqueue.flagNext != 0 else { break }
            index = UInt64(next)
        }
        return VirtioRequest(queue: queue, head: head, readable: readable, writable: writable)
    }

    /// Publishes a finished chain in the used ring.
    mutating func push(head: UInt16, written: UInt32, memory: GuestMemory) {
        let slot = deviceAddress + 4 + 8 * UInt64(usedIndex % UInt16(truncatingIfNeeded: size))
        memory.storeLittleEndian(UInt64(head) | UInt64(written) << 32, at: slot, size: 8)
        usedIndex &+= 1
        memory.storeLittleEndian(UInt64(usedIndex), at: deviceAddress + 2, size: 2)
    }

    /// Whether the driver wants an interrupt for the chains published since the last decision
    /// (virtio 1.2 §2.7.7.2). Called only after at least one chain was published; records the
    /// decision point for VIRTIO_F_EVENT_IDX.
    mutating func shouldInterrupt(memory: GuestMemory, eventIndex: Bool) -> Bool {
        let old = signalledUsedIndex
        let new = usedIndex
        let wasValid = signalledUsedValid
        signalledUsedIndex = new
        signalledUsedValid = true
        if eventIndex {
            guard wasValid else { return true }
            // vring_need_event: the driver asked to hear when the used index passes `used_event`.
            let event = usedEvent(memory)
            return new &- event &- 1 < new &- old
        }
        return availableFlags(memory) & Virtqueue.availFlagNoInterrupt == 0
    }
}

// MARK: Snapshot

extension Virtqueue {
    /// Writes the layout the driver programmed and the device's indices.
    func save(to writer: inout StateWriter) {
        writer.writeUInt32(size)
        writer.writeBool(ready)
        writer.writeUInt64(descriptorAddress)
        writer.writeUInt64(driverAddress)
        writer.writeUInt64(deviceAddress)
        writer.writeUInt16(lastAvailableIndex)
        writer.writeUInt16(usedIndex)
        writer.writeUInt16(signalledUsedIndex)
        writer.writeBool(signalledUsedValid)
    }

    /// Reads what ``save(to:)`` wrote. A ready queue must have a layout ``enable(memory:maximumSize:)``
    /// would accept, so that nothing restored can make the device touch memory outside RAM.
    init(from reader: inout StateReader, memory: GuestMemory, maximumSize: Int, name: String) throws(SnapshotError) {
        self.init()
        size = try reader.readUInt32("\(name) size")
        ready = try reader.readBool("\(name) ready")
        descriptorAddress = try reader.readUInt64("\(name) descriptor area")
        driverAddress = try reader.readUInt64("\(name) driver area")
        deviceAddress = try reader.readUInt64("\(name) device area")
        lastAvailableIndex = try reader.readUInt16("\(name) last available index")
        usedIndex = try reader.readUInt16("\(name) used index")
        signalledUsedIndex = try reader.readUInt16("\(name) signalled used index")
        signalledUsedValid = try reader.readBool("\(name) signalled-used flag")
        if ready && !hasValidLayout(memory: memory, maximumSize: maximumSize) {
            throw reader.invalid("\(name) is ready but its size (\(size)) or ring addresses are not usable")
        }
    }
}
