@testable import Machine
import RISCV
import Testing

/// Every stateful device saved and restored into a fresh device of the same kind: the restored
/// device saves the same bytes, behaves the same from then on, and drives its interrupt line to
/// match its state.
@Suite struct DeviceSnapshotTests {
    static func saved(_ save: (inout StateWriter) -> Void) -> [UInt8] {
        var writer = StateWriter()
        save(&writer)
        return writer.bytes
    }

    static func newHart() -> Hart {
        Hart(memory: GuestMemory(base: 0x8000_0000, size: 1 << 20)!, bus: MemoryMappedBus())
    }

    static let mip: UInt16 = 0x344

    @Test func clint() throws {
        let hart = Self.newHart()
        let clint = CLINT(hart: hart)
        clint.write(offset: 0, size: 4, value: 1)
        let bytes = Self.saved { clint.save(to: &$0) }

        let otherHart = Self.newHart()
        let restored = CLINT(hart: otherHart)
        var reader = StateReader(bytes)
        try restored.restore(from: &reader)
        #expect(reader.isAtEnd)
        #expect(restored.read(offset: 0, size: 4) == 1)
        #expect(otherHart.debugReadCSR(Self.mip)! & InterruptCause.machineSoftware.mask != 0, "MSIP driven after restore")
        #expect(Self.saved { restored.save(to: &$0) } == bytes)

        var bad = StateReader([2, 0, 0, 0])
        #expect(throws: SnapshotError.invalidValue(offset: 0, what: "CLINT msip is 2, expected 0 or 1")) {
            try restored.restore(from: &bad)
        }
    }

    @Test func plicWithPendingAndClaimedSources() throws {
        let plic = PLIC()
        func w(_ offset: UInt64, _ value: UInt32) { plic.write(offset: offset, size: 4, value: UInt64(value)) }
        for source in [3, 5, 9, 40] { w(UInt64(4 * source), UInt32(source % 7 + 1)) }
        w(0x2000, 1 << 3 | 1 << 5 | 1 << 9)          // context 0 enables
        w(0x2080 + 4, 1 << 8)                          // context 1 enables source 40
        w(0x20_1000, 1)                                // context 1 threshold
        for source in [3, 5, 9, 40] { plic.setLevel(source: source, true) }
        let claimed = plic.claim(context: 0)           // claims one; the others stay pending
        plic.setLevel(source: 9, false)
        let bytes = Self.saved { plic.save(to: &$0) }

        let hart = Self.newHart()
        let restored = PLIC()
        restored.connect(to: hart)
        var reader = StateReader(bytes)
        try restored.restore(from: &reader)
        #expect(reader.isAtEnd)
        #expect(Self.saved { restored.save(to: &$0) } == bytes)
        for context in 0..<2 { #expect(restored.isAsserted(context: context) == plic.isAsserted(context: context)) }
        let external = InterruptCause.machineExternal.mask | InterruptCause.supervisorExternal.mask
        let expectedLines = (plic.isAsserted(context: 0) ? InterruptCause.machineExternal.mask : 0)
            | (plic.isAsserted(context: 1) ? InterruptCause.supervisorExternal.mask : 0)
        #expect(hart.debugReadCSR(Self.mip)! & external == expectedLines, "MEIP/SEIP driven after restore")
        // Same claims from here on, and completing the claimed source works on both.
        restored.complete(context: 0, source: claimed)
        plic.complete(context: 0, source: claimed)
        for context in [0, 1, 0, 1] { #expect(restored.claim(context: context) == plic.claim(context: context)) }
        #expect(Self.saved { restored.save(to: &$0) } == Self.saved { plic.save(to: &$0) })
    }

    @Test func plicRejectsContradictoryGatewayState() {
        var bytes = Self.saved { PLIC().save(to: &$0) }
        // level, pending, claimed words follow 96 priorities, 2 thresholds and 6 enable words.
        let pendingOffset = (96 + 2 + 6 + 3) * 4
        bytes[pendingOffset] = 0x10                     // source 4 pending with its line low
        var reader = StateReader(bytes)
        #expect(throws: SnapshotError.self) { try PLIC().restore(from: &reader) }
    }

    @Test func uartWithUnreadInput() throws {
        let uart = UART16550()
        uart.write(offset: 3, size: 1, value: 0x80)    // DLAB
        uart.write(offset: 0, size: 1, value: 0x0C)
        uart.write(offset: 1, size: 1, value: 0x01)
        uart.write(offset: 3, size: 1, value: 0x03)
        uart.write(offset: 1, size: 1, value: 0x01)    // receive interrupt on
        uart.write(offset: 7, size: 1, value: 0x5A)
        uart.receive(Array("hello".utf8))
        _ = uart.read(offset: 0, size: 1)              // 'h' consumed
        let bytes = Self.saved { uart.save(to: &$0) }

        let restored = UART16550()
        var levels: [Bool] = []
        restored.onInterruptChange = { levels.append($0) }
        var reader = StateReader(bytes)
        try restored.restore(from: &reader)
        #expect(reader.isAtEnd)
        #expect(levels.last == true, "interrupt line driven after restore")
        #expect(Self.saved { restored.save(to: &$0) } == bytes)
        #expect(restored.pendingInput == 4)
        for offset: UInt64 in [7, 2, 5, 0, 0, 0, 0, 5, 2] {
            #expect(restored.read(offset: offset, size: 1) == uart.read(offset: offset, size: 1), "register \(offset)")
        }
        uart.write(offset: 3, size: 1, value: 0x80)
        restored.write(offset: 3, size: 1, value: 0x80)
        #expect(restored.read(offset: 0, size: 1) == 0x0C && restored.read(offset: 1, size: 1) == 0x01, "divisor kept")
    }

    @Test func seededEntropySourceContinues() throws {
        var source = SeededEntropySource(seed: 99)
        _ = source.take(3)
        let bytes = Self.saved { source.save(to: &$0) }
        var reader = StateReader(bytes)
        var restored = try SeededEntropySource(from: &reader)
        #expect(restored == source)
        #expect(restored.take(21) == source.take(21))
    }

    /// A clone of `driver`: a new driver on `device` with the same RAM, driver bookkeeping and
    /// (restored) transport state.
    static func clone(_ driver: VirtioTestDriver, device: any VirtioDevice, levels: Box<[Bool]>? = nil) throws -> VirtioTestDriver {
        let bytes = saved { driver.transport.save(to: &$0) }
        let copy = VirtioTestDriver(device: device)
        copy.memory.write(driver.memory.read(at: VirtioTestDriver.ramBase, count: Int(VirtioTestDriver.ramSize)), at: VirtioTestDriver.ramBase)
        copy.queues = driver.queues
        copy.ringCursor = driver.ringCursor
        copy.dataCursor = driver.dataCursor
        if let levels { copy.transport.onInterruptChange = { levels.value.append($0) } }
        var reader = StateReader(bytes)
        try copy.transport.restore(from: &reader)
        #expect(reader.isAtEnd)
        #expect(saved { copy.transport.save(to: &$0) } == bytes)
        return copy
    }

    final class Box<T> {
        var value: T
        init(_ value: T) { self.value = value }
    }

    @Test func virtioEntropyWithARequestInFlight() throws {
        // A request waits in the available ring because the source is dry.
        let driver = VirtioTestDriver(device: VirtioEntropy(source: VirtioEntropyTests.Reservoir()))
        driver.start(queueCount: 1)
        let first = driver.submit(0, [.writable(16)])
        #expect(driver.takeUsed(0).isEmpty)
        driver.submit(0, [.writable(8)])              // a second one behind it

        let device = VirtioEntropy(source: VirtioEntropyTests.Reservoir(bytes: Array(1...20)))
        let levels = Box<[Bool]>([])
        let copy = try Self.clone(driver, device: device, levels: levels)
        #expect(levels.value.last == false)
        #expect(copy.transport.status == driver.transport.status)
        #expect(copy.transport.negotiatedFeatures == driver.transport.negotiatedFeatures)
        device.serviceRequests()
        let used = copy.takeUsed(0)
        #expect(used.map(\.length) == [16, 4])
        #expect(copy.memory.read(at: first.addresses[0], count: 16) == Array(1...16))
        #expect(copy.acknowledgeInterrupt() == 1)
    }

    @Test func virtioEntropySeededSourceIsPartOfTheState() throws {
        let driver = VirtioTestDriver(device: VirtioEntropy(source: SeededEntropySource(seed: 5)))
        driver.start(queueCount: 1)
        driver.submit(0, [.writable(13)])
        _ = driver.takeUsed(0)
        let copy = try Self.clone(driver, device: VirtioEntropy(source: SeededEntropySource(seed: 1234)))
        let a = driver.submit(0, [.writable(40)]), b = copy.submit(0, [.writable(40)])
        #expect(a.addresses == b.addresses)
        #expect(driver.takeUsed(0).map(\.length) == copy.takeUsed(0).map(\.length))
        #expect(driver.memory.read(at: a.addresses[0], count: 40) == copy.memory.read(at: b.addresses[0], count: 40))
    }

    @Test func virtioBlockContinuesWithTheSameQueues() throws {
        let storage = MemoryBlockStorage(contents: (0..<8192).map { UInt8(truncatingIfNeeded: $0 * 3) })
        let driver = VirtioTestDriver(device: VirtioBlock(storage: storage))
        driver.start(queueCount: 1)
        func read(_ d: VirtioTestDriver, sector: UInt64) -> [UInt8] {
            var header = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 { header[8 + i] = UInt8(truncatingIfNeeded: sector >> (8 * UInt64(i))) }
            let r = d.submit(0, [.readable(header), .writable(512), .writable(1)])
            _ = d.takeUsed(0)
            return d.memory.read(at: r.addresses[1], count: 512)
        }
        #expect(read(driver, sector: 1) == Array(storage.bytes[512..<1024]))
        #expect(read(driver, sector: 2).count == 512)
        #expect(driver.transport.interruptStatus == 1, "left unacknowledged")
        let copyStorage = MemoryBlockStorage(contents: storage.bytes)
        let levels = Box<[Bool]>([])
        let copy = try Self.clone(driver, device: VirtioBlock(storage: copyStorage), levels: levels)
        #expect(levels.value.last == true, "the pending used-buffer interrupt is driven after restore")
        #expect(read(copy, sector: 5) == read(driver, sector: 5))
        #expect(copy.memory.read(at: VirtioTestDriver.ramBase, count: Int(VirtioTestDriver.ramSize))
                == driver.memory.read(at: VirtioTestDriver.ramBase, count: Int(VirtioTestDriver.ramSize)))
    }

    @Test func virtioNetworkStateAndIdentity() throws {
        let network = VirtioNetwork()
        let driver = VirtioTestDriver(device: network)
        driver.start(queueCount: 2)
        network.linkUp = false
        let copyDevice = VirtioNetwork()
        let copy = try Self.clone(driver, device: copyDevice)
        #expect(copyDevice.linkUp == false)
        #expect(copy.config(6, size: 1) == 0, "link state in the configuration space")

        // Another MAC address: refused, and the slot is left as it was.
        let other = VirtioNetwork(mac: [2, 0, 0, 0, 0, 1])
        let otherDriver = VirtioTestDriver(device: other)
        let before = Self.saved { otherDriver.transport.save(to: &$0) }
        var reader = StateReader(Self.saved { driver.transport.save(to: &$0) })
        #expect(throws: SnapshotError.deviceMismatch("the network card's MAC address is 52:54:00:12:34:56 in the snapshot and 02:00:00:00:00:01 on this machine")) {
            try otherDriver.transport.restore(from: &reader)
        }
        #expect(Self.saved { otherDriver.transport.save(to: &$0) } == before)
    }

    @Test func virtioSlotWithAnotherDeviceIsRefused() throws {
        let driver = VirtioTestDriver(device: VirtioEntropy())
        driver.start(queueCount: 1)
        var reader = StateReader(Self.saved { driver.transport.save(to: &$0) })
        let empty = VirtioTestDriver(device: nil)
        #expect(throws: SnapshotError.self) { try empty.transport.restore(from: &reader) }
    }

    @Test func readyQueueOutsideRAMIsRefused() throws {
        let driver = VirtioTestDriver(device: VirtioEntropy())
        driver.start(queueCount: 1)
        var bytes = Self.saved { driver.transport.save(to: &$0) }
        // The first queue's descriptor address follows 9 transport fields, the failure reason
        // (flag, empty string), the queue count, the queue size and ready flag.
        let descriptorOffset = 4 + 4 + 4 + 1 + 8 + 8 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 1
        bytes[descriptorOffset + 4] = 0x7F             // far outside RAM
        var reader = StateReader(bytes)
        let copy = VirtioTestDriver(device: VirtioEntropy())
        do {
            try copy.transport.restore(from: &reader)
            Issue.record("a ready queue outside RAM was accepted")
        } catch {
            #expect(error.description.contains("virtio queue 0 is ready but its size (16) or ring addresses are not usable"), "\(error)")
        }
    }
}
