import Machine
import RISCV
import Testing

/// virtio-blk driven as drivers/block/virtio_blk.c does: a 16-byte header, data, a status byte.
@Suite struct VirtioBlockTests {
    typealias Reg = VirtioTestDriver.Reg

    static func header(type: UInt32, sector: UInt64) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: type >> (8 * $0)) } + [0, 0, 0, 0]
            + (0..<8).map { UInt8(truncatingIfNeeded: sector >> (8 * UInt64($0))) }
    }

    static func pattern(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7) &+ seed } }

    /// A started block device on a 64-sector in-memory disk, its interrupt on PLIC source 1
    /// (enabled for the S-mode context).
    static func started(storage: MemoryBlockStorage = MemoryBlockStorage(sectorCount: 64),
                        transportFeatures: UInt64 = VirtioMMIO.defaultTransportFeatures,
                        features: (UInt64) -> UInt64 = { $0 }) -> (VirtioTestDriver, MemoryBlockStorage, PLIC) {
        let driver = VirtioTestDriver(device: VirtioBlock(storage: storage, serial: "disk-0"), transportFeatures: transportFeatures)
        let plic = PLIC()
        driver.transport.connect(to: plic, source: 1)
        plic.write(offset: 4, size: 4, value: 1)
        plic.write(offset: 0x2080, size: 4, value: 1 << 1)
        driver.start(queueCount: 1, features: features)
        return (driver, storage, plic)
    }

    @Test func identifiesAsABlockDevice() {
        let driver = VirtioTestDriver(device: VirtioBlock(storage: MemoryBlockStorage(sectorCount: 8)))
        #expect(driver.read32(Reg.magic) == 0x7472_6976)
        #expect(driver.read32(Reg.version) == 2)
        #expect(driver.read32(Reg.deviceID) == 2)
        #expect(driver.read32(Reg.vendorID) == 0x554D_4551)
        let features = driver.deviceFeatures()
        #expect(features & (1 << 32) != 0)           // VERSION_1
        #expect(features & (1 << 28) != 0)           // INDIRECT_DESC
        #expect(features & (1 << 29) != 0)           // EVENT_IDX
        #expect(features & (1 << 9) != 0)            // FLUSH
        #expect(features & (1 << 2) != 0)            // SEG_MAX
        #expect(features & (1 << 6) != 0)            // BLK_SIZE
        #expect(features & (1 << 5) == 0)            // not RO
        #expect(driver.config(0, size: 8) == 8)      // capacity, 64-bit read
        #expect(driver.config(0, size: 4) == 8)
        #expect(driver.config(4, size: 4) == 0)
        #expect(driver.config(12, size: 4) == 254)   // seg_max
        #expect(driver.config(20, size: 4) == 512)   // blk_size
        #expect(driver.config(0x200, size: 4) == 0)  // beyond the configuration space
    }

    @Test func writeThenReadBackThroughTheQueue() {
        let (driver, storage, plic) = Self.started()
        let data = Self.pattern(1024, seed: 3)
        // OUT: header, two data segments, status.
        let write = driver.submit(0, [.readable(Self.header(type: 1, sector: 5)), .readable(Array(data[0..<700])),
                                      .readable(Array(data[700...])), .writable(1)])
        var used = driver.takeUsed(0)
        #expect(used.count == 1)
        #expect(used.first?.id == UInt32(write.head))
        #expect(used.first?.length == 1)
        #expect(driver.memory.read(at: write.addresses[3], count: 1) == [0])
        #expect(Array(storage.bytes[5 * 512..<7 * 512]) == data)

        // The interrupt reached the PLIC; the driver claims, acknowledges, completes.
        #expect(plic.isAsserted(context: 1))
        #expect(plic.read(offset: 0x20_1004, size: 4) == 1)
        #expect(driver.acknowledgeInterrupt() == 1)
        plic.write(offset: 0x20_1004, size: 4, value: 1)
        #expect(!plic.isAsserted(context: 1))

        // IN: header, data split unevenly, status.
        let read = driver.submit(0, [.readable(Self.header(type: 0, sector: 5)), .writable(100), .writable(924), .writable(1)])
        used = driver.takeUsed(0)
        #expect(used.first?.id == UInt32(read.head))
        #expect(used.first?.length == 1025)
        let back = driver.memory.read(at: read.addresses[1], count: 100) + driver.memory.read(at: read.addresses[2], count: 924)
        #expect(back == data)
        #expect(driver.memory.read(at: read.addresses[3], count: 1) == [0])
    }

    @Test func headerAndDataMayShareADescriptor() {
        let (driver, storage, _) = Self.started()
        let data = Self.pattern(512, seed: 9)
        let request = driver.submit(0, [.readable(Self.header(type: 1, sector: 63) + data), .writable(1)])
        #expect(driver.takeUsed(0).count == 1)
        #expect(driver.memory.read(at: request.addresses[1], count: 1) == [0])
        #expect(Array(storage.bytes[63 * 512..<64 * 512]) == data)
    }

    @Test func indirectDescriptors() {
        let storage = MemoryBlockStorage(contents: Self.pattern(4096, seed: 1))
        let (driver, _, _) = Self.started(storage: storage)
        let request = driver.submit(0, [.readable(Self.header(type: 0, sector: 2)), .writable(512), .writable(512), .writable(1)],
                                    indirect: true)
        let used = driver.takeUsed(0)
        #expect(used.count == 1 && used[0].id == UInt32(request.head) && used[0].length == 1025)
        let back = driver.memory.read(at: request.addresses[1], count: 512) + driver.memory.read(at: request.addresses[2], count: 512)
        #expect(back == Array(storage.bytes[1024..<2048]))
    }

    @Test func flushGetIDAndUnsupportedRequests() {
        let (driver, storage, _) = Self.started()
        let flush = driver.submit(0, [.readable(Self.header(type: 4, sector: 0)), .writable(1)])
        #expect(driver.memory.read(at: flush.addresses[1], count: 1) == [0])
        #expect(storage.flushCount == 1)

        let id = driver.submit(0, [.readable(Self.header(type: 8, sector: 0)), .writable(20), .writable(1)])
        #expect(driver.memory.read(at: id.addresses[1], count: 20) == Array("disk-0".utf8) + [UInt8](repeating: 0, count: 14))
        #expect(driver.memory.read(at: id.addresses[2], count: 1) == [0])

        let discard = driver.submit(0, [.readable(Self.header(type: 11, sector: 0) + [UInt8](repeating: 0, count: 16)), .writable(1)])
        #expect(driver.memory.read(at: discard.addresses[1], count: 1) == [2])   // UNSUPP
        let used = driver.takeUsed(0)
        #expect(used.map(\.length) == [1, 21, 1])
        #expect(driver.transport.status & VirtioTestDriver.Status.needsReset == 0)
    }

    @Test func outOfRangeAndMisalignedTransfersFailWithIOError() {
        let (driver, storage, _) = Self.started()
        let past = driver.submit(0, [.readable(Self.header(type: 0, sector: 63)), .writable(1024), .writable(1)])
        #expect(driver.memory.read(at: past.addresses[2], count: 1) == [1])
        let huge = driver.submit(0, [.readable(Self.header(type: 1, sector: .max) + [UInt8](repeating: 1, count: 512)), .writable(1)])
        #expect(driver.memory.read(at: huge.addresses[1], count: 1) == [1])
        let partial = driver.submit(0, [.readable(Self.header(type: 1, sector: 0) + [1, 2, 3]), .writable(1)])
        #expect(driver.memory.read(at: partial.addresses[1], count: 1) == [1])
        #expect(storage.bytes.allSatisfy { $0 == 0 })
        #expect(driver.takeUsed(0).map(\.length) == [1, 1, 1])
    }

    @Test func readOnlyDiskRefusesWrites() {
        let storage = MemoryBlockStorage(contents: [1, 2, 3], readOnly: true)
        let (driver, _, _) = Self.started(storage: storage)
        #expect(driver.deviceFeatures() & (1 << 5) != 0)
        let write = driver.submit(0, [.readable(Self.header(type: 1, sector: 0) + [UInt8](repeating: 9, count: 512)), .writable(1)])
        #expect(driver.memory.read(at: write.addresses[1], count: 1) == [1])
        #expect(Array(storage.bytes[0..<4]) == [1, 2, 3, 0])
        let read = driver.submit(0, [.readable(Self.header(type: 0, sector: 0)), .writable(512), .writable(1)])
        #expect(driver.memory.read(at: read.addresses[1], count: 3) == [1, 2, 3])
    }

    @Test func requestWithoutStatusByteNeedsReset() {
        let (driver, _, _) = Self.started()
        driver.submit(0, [.readable(Self.header(type: 0, sector: 0))])
        #expect(driver.transport.status & VirtioTestDriver.Status.needsReset != 0)
        #expect(driver.takeUsed(0).isEmpty)
        #expect(driver.read32(Reg.interruptStatus) & 2 != 0)   // configuration change reported
    }

    @Test func manyRequestsWrapTheRings() {
        let (driver, storage, _) = Self.started()
        for i in 0..<100 {
            let sector = UInt64(i % 64)
            let data = [UInt8](repeating: UInt8(i), count: 512)
            driver.submit(0, [.readable(Self.header(type: 1, sector: sector)), .readable(data), .writable(1)])
            let used = driver.takeUsed(0)
            #expect(used.count == 1)
            #expect(storage.bytes[Int(sector) * 512] == UInt8(i))
            driver.acknowledgeInterrupt()
        }
        #expect(driver.transport.status & VirtioTestDriver.Status.needsReset == 0)
    }
}
