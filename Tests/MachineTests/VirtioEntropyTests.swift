import Machine
import RISCV
import Testing

/// virtio-rng driven as drivers/char/hw_random/virtio-rng.c does: one writable buffer per request.
@Suite struct VirtioEntropyTests {
    /// A source that hands out only what it has been given.
    struct Reservoir: EntropySource {
        var bytes: [UInt8] = []
        mutating func take(_ count: Int) -> [UInt8] {
            let n = min(count, bytes.count)
            defer { bytes.removeFirst(n) }
            return Array(bytes.prefix(n))
        }
    }

    @Test func splitMix64IsDeterministic() {
        var a = SeededEntropySource(seed: 0)
        #expect(a.next() == 0xE220_A839_7B1D_CDAF)   // SplitMix64 reference output for seed 0
        var b = SeededEntropySource(seed: 42), c = SeededEntropySource(seed: 42)
        #expect(b.take(13) + b.take(19) == c.take(32))
        var d = SeededEntropySource(seed: 0)
        #expect(d.take(8) == [0xAF, 0xCD, 0x1D, 0x7B, 0x39, 0xA8, 0x20, 0xE2])
    }

    @Test func requestsAreFilledFromTheSource() {
        let device = VirtioEntropy(source: SeededEntropySource(seed: 7))
        let driver = VirtioTestDriver(device: device)
        #expect(driver.read32(VirtioTestDriver.Reg.deviceID) == 4)
        driver.start(queueCount: 1)
        let request = driver.submit(0, [.writable(64)])
        let used = driver.takeUsed(0)
        #expect(used.count == 1 && used[0].id == UInt32(request.head) && used[0].length == 64)
        var expected = SeededEntropySource(seed: 7)
        #expect(driver.memory.read(at: request.addresses[0], count: 64) == expected.take(64))
        #expect(driver.acknowledgeInterrupt() == 1)
    }

    @Test func largeRequestsAreCapped() {
        let driver = VirtioTestDriver(device: VirtioEntropy())
        driver.start(queueCount: 1)
        driver.submit(0, [.writable(3000), .writable(3000)])
        #expect(driver.takeUsed(0).first?.length == UInt32(VirtioEntropy.maximumRequestBytes))
    }

    @Test func requestsWaitWhileTheSourceIsDry() {
        let device = VirtioEntropy(source: Reservoir())
        let driver = VirtioTestDriver(device: device)
        driver.start(queueCount: 1)
        let request = driver.submit(0, [.writable(32)])
        #expect(driver.takeUsed(0).isEmpty)
        #expect(driver.read32(VirtioTestDriver.Reg.interruptStatus) == 0)
        device.source = Reservoir(bytes: [1, 2, 3, 4, 5])
        device.serviceRequests()
        let used = driver.takeUsed(0)
        #expect(used.count == 1 && used[0].length == 5)
        #expect(driver.memory.read(at: request.addresses[0], count: 6) == [1, 2, 3, 4, 5, 0])
        #expect(driver.read32(VirtioTestDriver.Reg.interruptStatus) == 1)
    }

    @Test func sameSeedSameGuestBytes() {
        func run() -> [UInt8] {
            let driver = VirtioTestDriver(device: VirtioEntropy(source: SeededEntropySource(seed: 99)))
            driver.start(queueCount: 1)
            let a = driver.submit(0, [.writable(40)])
            let b = driver.submit(0, [.writable(24)])
            return driver.memory.read(at: a.addresses[0], count: 40) + driver.memory.read(at: b.addresses[0], count: 24)
        }
        #expect(run() == run())
    }
}
