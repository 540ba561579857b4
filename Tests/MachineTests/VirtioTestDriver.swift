import Machine
import RISCV

/// A minimal virtio-mmio driver for tests: pokes the transport's registers in the order Linux's
/// drivers/virtio/virtio_mmio.c does and builds split virtqueues in guest RAM.
final class VirtioTestDriver {
    static let ramBase: UInt64 = 0x8000_0000
    static let ramSize: UInt64 = 1 << 20

    /// Register offsets (virtio 1.2 §4.2.2).
    enum Reg {
        static let magic: UInt64 = 0x000, version: UInt64 = 0x004, deviceID: UInt64 = 0x008, vendorID: UInt64 = 0x00C
        static let deviceFeatures: UInt64 = 0x010, deviceFeaturesSel: UInt64 = 0x014
        static let driverFeatures: UInt64 = 0x020, driverFeaturesSel: UInt64 = 0x024
        static let queueSel: UInt64 = 0x030, queueNumMax: UInt64 = 0x034, queueNum: UInt64 = 0x038
        static let queueReady: UInt64 = 0x044, queueNotify: UInt64 = 0x050
        static let interruptStatus: UInt64 = 0x060, interruptACK: UInt64 = 0x064, status: UInt64 = 0x070
        static let descLow: UInt64 = 0x080, descHigh: UInt64 = 0x084
        static let driverLow: UInt64 = 0x090, driverHigh: UInt64 = 0x094
        static let deviceLow: UInt64 = 0x0A0, deviceHigh: UInt64 = 0x0A4
        static let shmLenLow: UInt64 = 0x0B0
        static let configGeneration: UInt64 = 0x0FC, config: UInt64 = 0x100
    }

    enum Status {
        static let acknowledge: UInt32 = 1, driver: UInt32 = 2, driverOK: UInt32 = 4, featuresOK: UInt32 = 8
        static let needsReset: UInt32 = 64
    }

    /// Driver-side view of one split queue.
    struct Queue {
        var size: UInt16
        var desc: UInt64
        var avail: UInt64
        var used: UInt64
        var nextDescriptor: UInt16 = 0
        var availIndex: UInt16 = 0
        var lastUsed: UInt16 = 0
    }

    /// A buffer in a request: device-readable bytes, or a device-writable area of some length.
    enum Buffer {
        case readable([UInt8])
        case writable(Int)
    }

    let memory: GuestMemory
    let transport: VirtioMMIO
    var queues: [Int: Queue] = [:]
    /// Bump allocators: rings from the start of RAM, data from the middle.
    var ringCursor: UInt64 = VirtioTestDriver.ramBase
    var dataCursor: UInt64 = VirtioTestDriver.ramBase + VirtioTestDriver.ramSize / 2

    init(device: (any VirtioDevice)?, transportFeatures: UInt64 = VirtioMMIO.defaultTransportFeatures) {
        memory = GuestMemory(base: VirtioTestDriver.ramBase, size: VirtioTestDriver.ramSize)!
        transport = VirtioMMIO(memory: memory, device: device, transportFeatures: transportFeatures)
    }

    /// A driver of virtio-mmio slot `slot` of `machine` (its rings and buffers in the first MiB
    /// of the machine's RAM).
    init(machine: Machine, slot: Int) {
        memory = machine.memory
        transport = machine.virtioSlots[slot]
    }

    func read32(_ offset: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: transport.read(offset: offset, size: 4)) }
    func write32(_ offset: UInt64, _ value: UInt32) { transport.write(offset: offset, size: 4, value: UInt64(value)) }
    var status: UInt32 { read32(Reg.status) }

    /// The 64 feature bits the device offers, read as vm_get_features does.
    func deviceFeatures() -> UInt64 {
        write32(Reg.deviceFeaturesSel, 1)
        var features = UInt64(read32(Reg.deviceFeatures)) << 32
        write32(Reg.deviceFeaturesSel, 0)
        features |= UInt64(read32(Reg.deviceFeatures))
        return features
    }

    /// Reset, ACKNOWLEDGE, DRIVER, feature negotiation and FEATURES_OK, as virtio_dev_probe does.
    /// Returns whether the device kept FEATURES_OK.
    @discardableResult
    func negotiate(_ choose: (UInt64) -> UInt64 = { $0 }) -> Bool {
        write32(Reg.status, 0)
        write32(Reg.status, Status.acknowledge)
        write32(Reg.status, Status.acknowledge | Status.driver)
        let features = choose(deviceFeatures())
        write32(Reg.driverFeaturesSel, 1)
        write32(Reg.driverFeatures, UInt32(truncatingIfNeeded: features >> 32))
        write32(Reg.driverFeaturesSel, 0)
        write32(Reg.driverFeatures, UInt32(truncatingIfNeeded: features))
        write32(Reg.status, status | Status.featuresOK)
        return status & Status.featuresOK != 0
    }

    private func allocateRing(_ bytes: UInt64, align: UInt64) -> UInt64 {
        ringCursor = (ringCursor + align - 1) & ~(align - 1)
        defer { ringCursor += bytes }
        return ringCursor
    }

    /// Allocates and registers queue `index`, as vm_setup_vq does. Returns the size used.
    @discardableResult
    func setUpQueue(_ index: Int, size wanted: UInt16? = nil) -> UInt16 {
        write32(Reg.queueSel, UInt32(index))
        precondition(read32(Reg.queueReady) == 0)
        let maximum = read32(Reg.queueNumMax)
        precondition(maximum > 0)
        let size = wanted ?? UInt16(min(maximum, 16))
        let n = UInt64(size)
        let desc = allocateRing(16 * n, align: 4096)
        let avail = allocateRing(6 + 2 * n, align: 2)
        let used = allocateRing(6 + 8 * n, align: 4096)
        queues[index] = Queue(size: size, desc: desc, avail: avail, used: used)
        write32(Reg.queueNum, UInt32(size))
        write32(Reg.descLow, UInt32(truncatingIfNeeded: desc)); write32(Reg.descHigh, UInt32(desc >> 32))
        write32(Reg.driverLow, UInt32(truncatingIfNeeded: avail)); write32(Reg.driverHigh, UInt32(avail >> 32))
        write32(Reg.deviceLow, UInt32(truncatingIfNeeded: used)); write32(Reg.deviceHigh, UInt32(used >> 32))
        write32(Reg.queueReady, 1)
        return size
    }

    func setDriverOK() { write32(Reg.status, status | Status.driverOK) }

    /// Full initialisation: negotiation, `queueCount` queues, DRIVER_OK.
    func start(queueCount: Int, features choose: (UInt64) -> UInt64 = { $0 }) {
        precondition(negotiate(choose))
        for q in 0..<queueCount { setUpQueue(q) }
        setDriverOK()
    }

    // MARK: Memory helpers

    func allocateData(_ count: Int) -> UInt64 {
        dataCursor = (dataCursor + 15) & ~15
        defer { dataCursor += UInt64(max(count, 1)) }
        return dataCursor
    }

    func put16(_ value: UInt16, at address: UInt64) { memory.write([UInt8(value & 0xFF), UInt8(value >> 8)], at: address) }
    func put32(_ value: UInt32, at address: UInt64) { memory.write((0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }, at: address) }
    func put64(_ value: UInt64, at address: UInt64) { memory.write((0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }, at: address) }
    func get16(_ address: UInt64) -> UInt16 { let b = memory.read(at: address, count: 2); return UInt16(b[0]) | UInt16(b[1]) << 8 }
    func get32(_ address: UInt64) -> UInt32 { memory.read(at: address, count: 4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * $1.offset) } }

    /// Writes descriptor `index` of the table at `table`.
    func putDescriptor(table: UInt64, index: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
        let at = table + 16 * UInt64(index)
        put64(address, at: at)
        put32(length, at: at + 8)
        put16(flags, at: at + 12)
        put16(next, at: at + 14)
    }

    /// Places data buffers for `buffers` in RAM and returns (address, length, writable) triples.
    func placeBuffers(_ buffers: [Buffer]) -> [(UInt64, UInt32, Bool)] {
        buffers.map { buffer in
            switch buffer {
            case .readable(let bytes):
                let address = allocateData(bytes.count)
                memory.write(bytes, at: address)
                return (address, UInt32(bytes.count), false)
            case .writable(let length):
                let address = allocateData(length)
                memory.zero(at: address, count: length)
                return (address, UInt32(length), true)
            }
        }
    }

    /// Writes a chain for `buffers` into the descriptor table (or an indirect table) and makes it
    /// available. Returns the head index and the buffers' guest addresses.
    @discardableResult
    func submit(_ queueIndex: Int, _ buffers: [Buffer], indirect: Bool = false, kick: Bool = true) -> (head: UInt16, addresses: [UInt64]) {
        var q = queues[queueIndex]!
        let placed = placeBuffers(buffers)
        let head = q.nextDescriptor
        if indirect {
            let table = allocateData(16 * placed.count)
            for (i, (address, length, writable)) in placed.enumerated() {
                let last = i == placed.count - 1
                putDescriptor(table: table, index: UInt16(i), address: address, length: length,
                              flags: (writable ? 2 : 0) | (last ? 0 : 1), next: last ? 0 : UInt16(i + 1))
            }
            putDescriptor(table: q.desc, index: head, address: table, length: UInt32(16 * placed.count), flags: 4, next: 0)
            q.nextDescriptor = (head + 1) % q.size
        } else {
            for (i, (address, length, writable)) in placed.enumerated() {
                let index = (head + UInt16(i)) % q.size
                let last = i == placed.count - 1
                putDescriptor(table: q.desc, index: index, address: address, length: length,
                              flags: (writable ? 2 : 0) | (last ? 0 : 1), next: (index + 1) % q.size)
            }
            q.nextDescriptor = (head + UInt16(placed.count)) % q.size
        }
        makeAvailable(&q, head: head)
        queues[queueIndex] = q
        if kick { notify(queueIndex) }
        return (head, placed.map { $0.0 })
    }

    /// Puts `head` in the next available slot and publishes the new index.
    func makeAvailable(_ q: inout Queue, head: UInt16) {
        put16(head, at: q.avail + 4 + 2 * UInt64(q.availIndex % q.size))
        q.availIndex &+= 1
        put16(q.availIndex, at: q.avail + 2)
    }

    /// Makes an arbitrary head index available (for malformed-input tests).
    func makeAvailable(_ queueIndex: Int, head: UInt16) {
        var q = queues[queueIndex]!
        makeAvailable(&q, head: head)
        queues[queueIndex] = q
    }

    func notify(_ queueIndex: Int) { write32(Reg.queueNotify, UInt32(queueIndex)) }

    /// Used-ring entries published since the last call: (id, len).
    func takeUsed(_ queueIndex: Int) -> [(id: UInt32, length: UInt32)] {
        var q = queues[queueIndex]!
        let usedIndex = get16(q.used + 2)
        var entries: [(UInt32, UInt32)] = []
        while q.lastUsed != usedIndex {
            let at = q.used + 4 + 8 * UInt64(q.lastUsed % q.size)
            entries.append((get32(at), get32(at + 4)))
            q.lastUsed &+= 1
        }
        queues[queueIndex] = q
        return entries
    }

    /// Sets `used_event` (VIRTIO_F_EVENT_IDX).
    func setUsedEvent(_ queueIndex: Int, _ value: UInt16) {
        let q = queues[queueIndex]!
        put16(value, at: q.avail + 4 + 2 * UInt64(q.size))
    }

    /// Reads `avail_event` (VIRTIO_F_EVENT_IDX).
    func availEvent(_ queueIndex: Int) -> UInt16 {
        let q = queues[queueIndex]!
        return get16(q.used + 4 + 8 * UInt64(q.size))
    }

    /// Sets the available ring's flags (VIRTQ_AVAIL_F_NO_INTERRUPT = 1).
    func setAvailFlags(_ queueIndex: Int, _ flags: UInt16) { put16(flags, at: queues[queueIndex]!.avail) }

    /// Reads and acknowledges InterruptStatus, as vm_interrupt does.
    @discardableResult
    func acknowledgeInterrupt() -> UInt32 {
        let isr = read32(Reg.interruptStatus)
        write32(Reg.interruptACK, isr)
        return isr
    }

    /// Reads configuration bytes.
    func config(_ offset: UInt64, size: Int) -> UInt64 { transport.read(offset: Reg.config + offset, size: size) }
}
