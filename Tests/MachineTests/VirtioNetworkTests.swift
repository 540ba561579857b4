@testable import Machine
import RISCV
import Testing

/// virtio-net driven as drivers/net/virtio_net.c does without offloads: 12-byte headers,
/// small receive buffers, frames out through onTransmit and in through receive(frame:).
@Suite struct VirtioNetworkTests {
    typealias Reg = VirtioTestDriver.Reg

    static func frame(_ count: Int, seed: UInt8 = 0) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0) &+ seed } }

    static func started() -> (VirtioTestDriver, VirtioNetwork) {
        let device = VirtioNetwork()
        let driver = VirtioTestDriver(device: device)
        driver.start(queueCount: 2)
        return (driver, device)
    }

    @Test func configurationHoldsMACAndLinkStatus() {
        let device = VirtioNetwork()
        let driver = VirtioTestDriver(device: device)
        #expect(driver.read32(Reg.deviceID) == 1)
        let features = driver.deviceFeatures()
        #expect(features & (1 << 5) != 0 && features & (1 << 16) != 0)   // MAC, STATUS
        #expect(features & (1 << 17) != 0 && features & (1 << 21) != 0)  // CTRL_VQ, GUEST_ANNOUNCE
        #expect(features & 0xFFFF & ~(1 << 5) == 0)                      // no offloads
        #expect(features & (1 << 22) == 0)                               // no multiqueue
        #expect((0..<6).map { UInt8(driver.config(UInt64($0), size: 1)) } == [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        #expect(driver.config(6, size: 2) == 1)                           // VIRTIO_NET_S_LINK_UP
        #expect(driver.read32(Reg.queueNumMax) == 256)
        driver.write32(Reg.queueSel, 2)
        #expect(driver.read32(Reg.queueNumMax) == 256)                    // the control queue
        driver.write32(Reg.queueSel, 3)
        #expect(driver.read32(Reg.queueNumMax) == 0)
    }

    /// virtio 1.2 §5.1.6.5.4: the device sets VIRTIO_NET_S_ANNOUNCE and interrupts; the driver
    /// acknowledges with class 3 (ANNOUNCE), command 0 (ACK), which clears the bit.
    @Test func announcementIsAskedForAndAcknowledgedOnTheControlQueue() {
        let device = VirtioNetwork()
        let driver = VirtioTestDriver(device: device)
        driver.start(queueCount: 3)
        device.announce()
        #expect(device.announcePending)
        #expect(driver.config(6, size: 2) == 1 | 2)                       // LINK_UP | ANNOUNCE
        #expect(driver.acknowledgeInterrupt() & 2 != 0)                  // configuration change
        // The ACK as Linux's virtnet_send_command lays it out: header, (no data), answer byte.
        let request = driver.submit(2, [.readable([3, 0]), .writable(1)])
        #expect(driver.takeUsed(2).map(\.length) == [1])
        #expect(driver.memory.read(at: request.addresses[1], count: 1) == [0])   // VIRTIO_NET_OK
        #expect(!device.announcePending && device.acknowledgedAnnouncements == 1)
        #expect(driver.config(6, size: 2) == 1)
        // A command the device does not offer is answered VIRTIO_NET_ERR (class 0 RX, PROMISC).
        let other = driver.submit(2, [.readable([0, 0, 1]), .writable(1)])
        _ = driver.takeUsed(2)
        #expect(driver.memory.read(at: other.addresses[1], count: 1) == [1])
    }

    @Test func announcementWithoutTheFeatureDoesNothing() {
        let device = VirtioNetwork()
        let driver = VirtioTestDriver(device: device)
        driver.start(queueCount: 3, features: { $0 & ~(1 << 21) })
        device.announce()
        #expect(!device.announcePending)
        #expect(driver.config(6, size: 2) == 1)
        #expect(driver.read32(Reg.interruptStatus) == 0)
    }

    @Test func aPendingAnnouncementSurvivesASnapshot() throws {
        let device = VirtioNetwork()
        let driver = VirtioTestDriver(device: device)
        driver.start(queueCount: 3)
        device.announce()
        var writer = StateWriter()
        device.save(to: &writer)
        let copy = VirtioNetwork()
        var reader = StateReader(writer.bytes)
        try copy.restore(from: &reader)
        #expect(copy.announcePending)
    }

    @Test func linkChangesRaiseAConfigurationInterrupt() {
        let (driver, device) = Self.started()
        let generation = driver.read32(Reg.configGeneration)
        device.linkUp = false
        #expect(driver.config(6, size: 2) == 0)
        #expect(driver.read32(Reg.interruptStatus) == 2)
        #expect(driver.read32(Reg.configGeneration) == generation + 1)
    }

    @Test func transmitStripsTheHeader() {
        let (driver, device) = Self.started()
        var sent: [[UInt8]] = []
        device.onTransmit = { sent.append($0) }
        let payload = Self.frame(60, seed: 1)
        // Header and frame in one buffer (any_header_sg), then split across descriptors.
        driver.submit(1, [.readable([UInt8](repeating: 0, count: 12) + payload)])
        driver.submit(1, [.readable([UInt8](repeating: 0, count: 12)), .readable(Array(payload[0..<14])), .readable(Array(payload[14...]))])
        #expect(sent == [payload, payload])
        #expect(driver.takeUsed(1).map(\.length) == [0, 0])
        #expect(driver.read32(Reg.interruptStatus) == 1)
    }

    @Test func transmitShorterThanTheHeaderNeedsReset() {
        let (driver, device) = Self.started()
        var sent = 0
        device.onTransmit = { _ in sent += 1 }
        driver.submit(1, [.readable([0, 0, 0])])
        #expect(sent == 0)
        #expect(driver.status & VirtioTestDriver.Status.needsReset != 0)
    }

    @Test func receiveFillsTheNextBuffer() {
        let (driver, device) = Self.started()
        #expect(!device.receive(frame: Self.frame(60)))   // no buffers posted yet
        var refills = 0
        device.onReceiveBuffersAvailable = { refills += 1 }
        let first = driver.submit(0, [.writable(12 + 1518)])
        let second = driver.submit(0, [.writable(12), .writable(1518)])
        #expect(refills == 2)
        #expect(driver.takeUsed(0).isEmpty)

        let frame = Self.frame(98, seed: 7)
        #expect(device.receive(frame: frame))
        var used = driver.takeUsed(0)
        #expect(used.count == 1 && used[0].id == UInt32(first.head) && used[0].length == 110)
        let header = driver.memory.read(at: first.addresses[0], count: 12)
        #expect(header == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])   // num_buffers = 1
        #expect(driver.memory.read(at: first.addresses[0] + 12, count: 98) == frame)
        #expect(driver.acknowledgeInterrupt() == 1)

        #expect(device.receive(frame: Self.frame(1514)))
        used = driver.takeUsed(0)
        #expect(used.count == 1 && used[0].id == UInt32(second.head) && used[0].length == 12 + 1514)
        #expect(driver.memory.read(at: second.addresses[1], count: 1514) == Self.frame(1514))
        #expect(!device.receive(frame: frame))             // ring empty again
    }

    @Test func oversizedFramesAreDroppedAndTheBufferKept() {
        let (driver, device) = Self.started()
        driver.submit(0, [.writable(12 + 100)])
        #expect(device.receive(frame: Self.frame(101)))
        #expect(device.droppedFrames == 1)
        #expect(driver.takeUsed(0).isEmpty)
        #expect(device.receive(frame: Self.frame(100)))
        #expect(driver.takeUsed(0).count == 1)
    }

    @Test func receiveBeforeDriverOKIsRefused() {
        let device = VirtioNetwork()
        let driver = VirtioTestDriver(device: device)
        driver.negotiate()
        driver.setUpQueue(0)
        driver.setUpQueue(1)
        driver.submit(0, [.writable(1530)])
        #expect(!device.receive(frame: Self.frame(60)))
        driver.setDriverOK()
        #expect(device.receive(frame: Self.frame(60)))
    }

    @Test func readableReceiveBufferNeedsReset() {
        let (driver, device) = Self.started()
        driver.submit(0, [.readable([1, 2, 3]), .writable(1530)])
        #expect(!device.receive(frame: Self.frame(60)))
        #expect(driver.status & VirtioTestDriver.Status.needsReset != 0)
    }

    @Test func loopbackFromOnTransmitIsSafe() {
        let (driver, device) = Self.started()
        device.onTransmit = { [unowned device] frame in device.receive(frame: frame) }
        driver.submit(0, [.writable(1530)])
        driver.submit(1, [.readable([UInt8](repeating: 0, count: 12) + Self.frame(64))])
        #expect(driver.takeUsed(1).count == 1)
        let received = driver.takeUsed(0)
        #expect(received.count == 1 && received[0].length == 76)
    }
}
