import Machine
import RISCV
import Testing

/// The virtio-mmio transport: registers, negotiation, reset, notification suppression, and
/// malformed guest input (which must never crash the host).
@Suite struct VirtioMMIOTests {
    typealias Reg = VirtioTestDriver.Reg
    typealias Status = VirtioTestDriver.Status

    static func blockDriver(transportFeatures: UInt64 = VirtioMMIO.defaultTransportFeatures) -> (VirtioTestDriver, MemoryBlockStorage) {
        let storage = MemoryBlockStorage(sectorCount: 16)
        return (VirtioTestDriver(device: VirtioBlock(storage: storage), transportFeatures: transportFeatures), storage)
    }

    static let readHeader = VirtioBlockTests.header(type: 0, sector: 0)

    @Test func emptySlotLooksLikeQEMUs() {
        let driver = VirtioTestDriver(device: nil)
        #expect(driver.read32(Reg.magic) == 0x7472_6976)
        #expect(driver.read32(Reg.version) == 2)
        #expect(driver.read32(Reg.vendorID) == 0x554D_4551)
        #expect(driver.read32(Reg.deviceID) == 0)
        #expect(driver.read32(Reg.queueNumMax) == 0)
        driver.write32(Reg.status, 1)
        #expect(driver.read32(Reg.status) == 0)
        #expect(driver.transport.windowSize == 0x200)
    }

    @Test func featureNegotiationRequiresVersion1() {
        let (driver, _) = Self.blockDriver()
        #expect(!driver.negotiate { $0 & ~(1 << 32) })
        #expect(driver.status == Status.acknowledge | Status.driver)
        #expect(driver.negotiate())
        #expect(driver.transport.negotiatedFeatures == driver.deviceFeatures())
    }

    @Test func featuresNotOfferedAreRefused() {
        let (driver, _) = Self.blockDriver()
        #expect(!driver.negotiate { $0 | (1 << 40) })
        #expect(driver.negotiate { $0 & ~(1 << 29) })
        // Once accepted, features are frozen.
        driver.write32(Reg.driverFeaturesSel, 0)
        driver.write32(Reg.driverFeatures, 0xFFFF_FFFF)
        #expect(driver.transport.negotiatedFeatures & (1 << 29) == 0)
        #expect(driver.transport.hasNegotiated(1 << 28))
    }

    @Test func featureSelectBeyondTheSecondWordReadsZero() {
        let (driver, _) = Self.blockDriver()
        driver.write32(Reg.deviceFeaturesSel, 2)
        #expect(driver.read32(Reg.deviceFeatures) == 0)
        driver.write32(Reg.deviceFeaturesSel, 1)
        #expect(driver.read32(Reg.deviceFeatures) == 1)   // VERSION_1 only in the high word
    }

    @Test func transportFeaturesCanBeWithheld() {
        let (driver, _) = Self.blockDriver(transportFeatures: 0)
        #expect(driver.deviceFeatures() & (1 << 28 | 1 << 29) == 0)
        #expect(driver.deviceFeatures() & (1 << 32) != 0)
    }

    @Test func queueRegisters() {
        let (driver, _) = Self.blockDriver()
        driver.negotiate()
        driver.write32(Reg.queueSel, 1)                  // virtio-blk has one queue
        #expect(driver.read32(Reg.queueNumMax) == 0)
        driver.write32(Reg.queueSel, 0)
        #expect(driver.read32(Reg.queueNumMax) == 256)
        driver.setUpQueue(0)
        #expect(driver.read32(Reg.queueReady) == 1)
        driver.write32(Reg.queueReady, 0)
        #expect(driver.read32(Reg.queueReady) == 0)
        #expect(driver.read32(Reg.shmLenLow) == 0xFFFF_FFFF)
        #expect(driver.read32(Reg.descLow) == 0)          // write-only
    }

    @Test func resetClearsEverything() {
        let (driver, _) = Self.blockDriver()
        let plic = PLIC()
        driver.transport.connect(to: plic, source: 3)
        plic.write(offset: 12, size: 4, value: 1)
        plic.write(offset: 0x2080, size: 4, value: 1 << 3)
        driver.start(queueCount: 1)
        driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
        #expect(driver.read32(Reg.interruptStatus) == 1)
        #expect(plic.isAsserted(context: 1))
        driver.write32(Reg.status, 0)
        #expect(driver.status == 0)
        #expect(driver.read32(Reg.interruptStatus) == 0)
        #expect(!plic.isAsserted(context: 1))
        #expect(driver.read32(Reg.queueReady) == 0)
        #expect(driver.transport.negotiatedFeatures == 0)
        // And the device works again after a fresh initialisation.
        driver.queues = [:]
        driver.start(queueCount: 1)
        driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
        #expect(driver.takeUsed(0).count == 1)
    }

    @Test func buffersQueuedBeforeDriverOKAreServedAtDriverOK() {
        let (driver, _) = Self.blockDriver()
        driver.negotiate()
        driver.setUpQueue(0)
        let request = driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
        #expect(driver.takeUsed(0).isEmpty)
        driver.setDriverOK()
        #expect(driver.takeUsed(0).map(\.id) == [UInt32(request.head)])
        #expect(driver.read32(Reg.interruptStatus) == 1)
    }

    @Test func driverOKWithoutFeaturesOKNeedsReset() {
        let (driver, _) = Self.blockDriver()
        driver.write32(Reg.status, Status.acknowledge | Status.driver)
        driver.write32(Reg.status, Status.acknowledge | Status.driver | Status.driverOK)
        #expect(driver.status & Status.needsReset != 0)
        #expect(driver.read32(Reg.interruptStatus) == 2)
    }

    @Test func interruptAcknowledgeLowersTheLine() {
        let (driver, _) = Self.blockDriver()
        var levels: [Bool] = []
        driver.transport.onInterruptChange = { levels.append($0) }
        driver.start(queueCount: 1)
        driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
        driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
        #expect(levels == [true])
        #expect(driver.acknowledgeInterrupt() == 1)
        #expect(levels == [true, false])
    }

    @Test func noInterruptFlagSuppressesInterruptsWithoutEventIndex() {
        let (driver, _) = Self.blockDriver(transportFeatures: VirtioFeature.indirectDescriptors)
        driver.start(queueCount: 1)
        driver.setAvailFlags(0, 1)
        driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
        #expect(driver.takeUsed(0).count == 1)
        #expect(driver.read32(Reg.interruptStatus) == 0)
        driver.setAvailFlags(0, 0)
        driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
        #expect(driver.read32(Reg.interruptStatus) == 1)
    }

    @Test func eventIndexSuppressesInterruptsAndPublishesAvailEvent() {
        let (driver, _) = Self.blockDriver()
        driver.start(queueCount: 1)
        #expect(driver.transport.hasNegotiated(VirtioFeature.eventIndex))
        // First completion always interrupts; avail_event follows what the device has seen.
        driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
        #expect(driver.acknowledgeInterrupt() == 1)
        #expect(driver.availEvent(0) == 1)
        // used_event = 5: interrupt only when the used index passes 5 (i.e. becomes 6).
        driver.setUsedEvent(0, 5)
        for expectedUsed in 2...6 {
            driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)])
            #expect(driver.availEvent(0) == UInt16(expectedUsed))
            let isr = driver.acknowledgeInterrupt()
            #expect(isr == (expectedUsed == 6 ? 1 : 0), "used index \(expectedUsed)")
        }
        #expect(driver.takeUsed(0).count == 6)
    }

    // MARK: Malformed input

    /// A started block driver whose queue 0 gets `head` made available with the descriptor table
    /// prepared by `prepare`, then notified. Returns the driver after the notify.
    static func malformed(_ prepare: (VirtioTestDriver, VirtioTestDriver.Queue) -> UInt16) -> VirtioTestDriver {
        let (driver, _) = blockDriver()
        driver.start(queueCount: 1)
        let head = prepare(driver, driver.queues[0]!)
        driver.makeAvailable(0, head: head)
        driver.notify(0)
        return driver
    }

    static func expectNeedsReset(_ driver: VirtioTestDriver, _ comment: Comment) {
        #expect(driver.status & Status.needsReset != 0, comment)
        #expect(driver.transport.failureReason != nil, comment)
        #expect(driver.takeUsed(0).isEmpty, comment)
        #expect(driver.read32(Reg.interruptStatus) & 2 != 0, comment)
        // Further notifies do nothing; a reset recovers.
        driver.notify(0)
        driver.write32(Reg.status, 0)
        #expect(driver.status == 0)
        #expect(driver.transport.failureReason == nil)
    }

    @Test func headIndexOutOfRange() {
        let driver = Self.malformed { _, q in q.size + 3 }
        Self.expectNeedsReset(driver, "head out of range")
    }

    @Test func nextIndexOutOfRange() {
        let driver = Self.malformed { d, q in
            let buffer = d.allocateData(16)
            d.putDescriptor(table: q.desc, index: 0, address: buffer, length: 16, flags: 1, next: 0xFFFF)
            return 0
        }
        Self.expectNeedsReset(driver, "next out of range")
    }

    @Test func chainLoop() {
        let driver = Self.malformed { d, q in
            let buffer = d.allocateData(16)
            d.memory.write(Self.readHeader, at: buffer)
            d.putDescriptor(table: q.desc, index: 0, address: buffer, length: 16, flags: 1, next: 1)
            d.putDescriptor(table: q.desc, index: 1, address: buffer, length: 16, flags: 1, next: 0)
            return 0
        }
        Self.expectNeedsReset(driver, "loop")
    }

    @Test func selfLoopInIndirectTable() {
        let driver = Self.malformed { d, q in
            let table = d.allocateData(32)
            let buffer = d.allocateData(16)
            d.putDescriptor(table: table, index: 0, address: buffer, length: 16, flags: 1, next: 1)
            d.putDescriptor(table: table, index: 1, address: buffer, length: 16, flags: 1, next: 1)
            d.putDescriptor(table: q.desc, index: 0, address: table, length: 32, flags: 4, next: 0)
            return 0
        }
        Self.expectNeedsReset(driver, "indirect loop")
    }

    @Test func nestedIndirectTable() {
        let driver = Self.malformed { d, q in
            let table = d.allocateData(16)
            d.putDescriptor(table: table, index: 0, address: table, length: 16, flags: 4, next: 0)
            d.putDescriptor(table: q.desc, index: 0, address: table, length: 16, flags: 4, next: 0)
            return 0
        }
        Self.expectNeedsReset(driver, "nested indirect")
    }

    @Test func indirectTableOfBadSize() {
        let driver = Self.malformed { d, q in
            let table = d.allocateData(24)
            d.putDescriptor(table: q.desc, index: 0, address: table, length: 24, flags: 4, next: 0)
            return 0
        }
        Self.expectNeedsReset(driver, "indirect size")
    }

    @Test func indirectWithoutNegotiation() {
        let (driver, _) = Self.blockDriver()
        driver.start(queueCount: 1) { $0 & ~VirtioFeature.indirectDescriptors }
        driver.submit(0, [.readable(Self.readHeader), .writable(512), .writable(1)], indirect: true)
        Self.expectNeedsReset(driver, "indirect not negotiated")
    }

    @Test func bufferOutsideRAM() {
        for address: UInt64 in [0, 0x1000_0000, 0x8000_0000 + (1 << 20) - 8, .max - 4] {
            let driver = Self.malformed { d, q in
                d.putDescriptor(table: q.desc, index: 0, address: address, length: 16, flags: 0, next: 0)
                return 0
            }
            Self.expectNeedsReset(driver, "address \(address)")
        }
    }

    @Test func indirectTableOutsideRAM() {
        let driver = Self.malformed { d, q in
            d.putDescriptor(table: q.desc, index: 0, address: 0xFFFF_FFFF_FFFF_FFF0, length: 32, flags: 4, next: 0)
            return 0
        }
        Self.expectNeedsReset(driver, "indirect outside RAM")
    }

    @Test func hugeLengths() {
        let driver = Self.malformed { d, q in
            d.putDescriptor(table: q.desc, index: 0, address: 0x8000_0000, length: 0xFFFF_FFFF, flags: 0, next: 0)
            return 0
        }
        Self.expectNeedsReset(driver, "length past RAM")
    }

    @Test func readableAfterWritable() {
        let driver = Self.malformed { d, q in
            let buffer = d.allocateData(16)
            d.memory.write(Self.readHeader, at: buffer)
            d.putDescriptor(table: q.desc, index: 0, address: buffer, length: 16, flags: 1, next: 1)
            d.putDescriptor(table: q.desc, index: 1, address: buffer, length: 1, flags: 2 | 1, next: 2)
            d.putDescriptor(table: q.desc, index: 2, address: buffer, length: 1, flags: 0, next: 0)
            return 0
        }
        Self.expectNeedsReset(driver, "readable after writable")
    }

    @Test func availableIndexJump() {
        let (driver, _) = Self.blockDriver()
        driver.start(queueCount: 1)
        driver.put16(1000, at: driver.queues[0]!.avail + 2)
        driver.notify(0)
        Self.expectNeedsReset(driver, "avail.idx jump")
    }

    @Test func queueLayoutOutsideRAMIsRefused() {
        let (driver, _) = Self.blockDriver()
        driver.negotiate()
        driver.write32(Reg.queueSel, 0)
        driver.write32(Reg.queueNum, 16)
        driver.write32(Reg.descLow, 0xFFFF_F000)
        driver.write32(Reg.descHigh, 0xFFFF_FFFF)
        driver.write32(Reg.queueReady, 1)
        #expect(driver.read32(Reg.queueReady) == 0)
        #expect(driver.status & Status.needsReset != 0)
    }

    @Test func queueSizeMustBeAPowerOfTwoWithinTheMaximum() {
        for size: UInt32 in [0, 3, 512, 0xFFFF_FFFF] {
            let (driver, _) = Self.blockDriver()
            driver.negotiate()
            driver.write32(Reg.queueSel, 0)
            driver.write32(Reg.queueNum, size)
            driver.write32(Reg.descLow, 0x8000_0000)
            driver.write32(Reg.driverLow, 0x8001_0000)
            driver.write32(Reg.deviceLow, 0x8002_0000)
            driver.write32(Reg.queueReady, 1)
            #expect(driver.read32(Reg.queueReady) == 0, "size \(size)")
        }
    }

    @Test func notifyingAnAbsentQueueIsHarmless() {
        let (driver, _) = Self.blockDriver()
        driver.start(queueCount: 1)
        driver.write32(Reg.queueNotify, 5)
        driver.write32(Reg.queueNotify, 0xFFFF_FFFF)
        #expect(driver.status & Status.needsReset == 0)
    }

    @Test func oddAccessSizesAreIgnored() {
        let (driver, _) = Self.blockDriver()
        #expect(driver.transport.read(offset: Reg.magic, size: 2) == 0)
        driver.transport.write(offset: Reg.status, size: 1, value: 1)
        #expect(driver.status == 0)
    }
}

/// The devices fit QEMU's `virt` memory map on one bus.
@Suite struct VirtLayoutTests {
    @Test func plicAndEightSlotsMapWithoutOverlap() {
        let memory = GuestMemory(base: 0x8000_0000, size: 1 << 20)!
        let bus = MemoryMappedBus()
        let plic = PLIC()
        bus.map(plic, at: PLIC.defaultBase)
        bus.map(UART16550(), at: UART16550.defaultBase)
        let devices: [(any VirtioDevice)?] = [VirtioBlock(storage: MemoryBlockStorage(sectorCount: 8)), VirtioNetwork(),
                                              VirtioEntropy(), nil, nil, nil, nil, nil]
        var transports: [VirtioMMIO] = []
        for (i, device) in devices.enumerated() {
            let transport = VirtioMMIO(memory: memory, device: device)
            transport.connect(to: plic, source: VirtioMMIO.firstInterruptSource + i)
            bus.map(transport, at: VirtioMMIO.defaultBase + VirtioMMIO.slotStride * UInt64(i))
            transports.append(transport)
        }
        #expect(bus.load(physicalAddress: 0x1000_1008, size: 4) == 2)
        #expect(bus.load(physicalAddress: 0x1000_2008, size: 4) == 1)
        #expect(bus.load(physicalAddress: 0x1000_3008, size: 4) == 4)
        #expect(bus.load(physicalAddress: 0x1000_8000, size: 4) == 0x7472_6976)
        #expect(bus.load(physicalAddress: 0x1000_8008, size: 4) == 0)
        #expect(bus.load(physicalAddress: 0x1000_1200, size: 4) == nil)   // past the 0x200 window
        #expect(bus.load(physicalAddress: 0x0C20_1004, size: 4) == 0)     // S-mode claim: nothing pending
    }
}
