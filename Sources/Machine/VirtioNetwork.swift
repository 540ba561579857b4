/// A virtio network device (device id 1; virtio 1.2 §5.1) with no offloads.
///
/// Queue 0 receives, queue 1 transmits, queue 2 is the control queue. Offered features:
/// VIRTIO_NET_F_MAC (the address in ``mac``), VIRTIO_NET_F_STATUS (``linkUp``),
/// VIRTIO_NET_F_CTRL_VQ and VIRTIO_NET_F_GUEST_ANNOUNCE: ``announce()`` sets the announce bit in
/// the status and raises a configuration interrupt, the guest's driver sends gratuitous ARPs for
/// its addresses and acknowledges on the control queue (class ANNOUNCE, command ACK), which clears
/// the bit (virtio 1.2 §5.1.6.5.4). A backup that goes live asks for this so that the network
/// learns where the guest now is. Without
/// VIRTIO_NET_F_MRG_RXBUF or any GSO feature, every frame fits in one receive buffer; with
/// VIRTIO_F_VERSION_1 each buffer starts with the 12-byte `virtio_net_hdr`.
///
/// Transmit: each frame the driver sends, header stripped, goes to ``onTransmit`` before the
/// QueueNotify write returns. Receive is an input from outside: the owner calls
/// ``receive(frame:)`` at a deterministic point (an input event).
public final class VirtioNetwork: VirtioDevice {
    /// QEMU's default MAC address, 52:54:00:12:34:56.
    public static let defaultMAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    /// `sizeof(struct virtio_net_hdr_mrg_rxbuf)`, the header with VIRTIO_F_VERSION_1.
    public static let headerSize = 12
    /// Longest frame transmitted; longer ones (impossible without GSO) are dropped.
    public static let maximumFrameSize = 65_535
    /// The receive queue.
    public static let receiveQueue = 0
    /// The transmit queue.
    public static let transmitQueue = 1
    /// The control queue (without VIRTIO_NET_F_MQ, the queue after the one receive/transmit pair).
    public static let controlQueue = 2

    /// Device feature bits (virtio 1.2 §5.1.3).
    public enum Feature {
        public static let mac: UInt64 = 1 << 5        // VIRTIO_NET_F_MAC
        public static let status: UInt64 = 1 << 16     // VIRTIO_NET_F_STATUS
        public static let controlQueue: UInt64 = 1 << 17   // VIRTIO_NET_F_CTRL_VQ
        public static let guestAnnounce: UInt64 = 1 << 21  // VIRTIO_NET_F_GUEST_ANNOUNCE
    }

    /// Status bits in the configuration space (virtio 1.2 §5.1.4).
    enum StatusBit {
        static let linkUp: UInt8 = 1       // VIRTIO_NET_S_LINK_UP
        static let announce: UInt8 = 2     // VIRTIO_NET_S_ANNOUNCE
    }

    /// Control queue classes, commands and answers (virtio 1.2 §5.1.6.5).
    enum Control {
        static let announceClass: UInt8 = 3   // VIRTIO_NET_CTRL_ANNOUNCE
        static let announceAck: UInt8 = 0     // VIRTIO_NET_CTRL_ANNOUNCE_ACK
        static let ok: UInt8 = 0              // VIRTIO_NET_OK
        static let error: UInt8 = 1           // VIRTIO_NET_ERR
    }

    /// The device's MAC address (6 bytes).
    public let mac: [UInt8]
    /// Receives every frame the guest transmits (Ethernet header onwards, no virtio header).
    public var onTransmit: ([UInt8]) -> Void = { _ in }
    /// Called when the driver notifies the receive queue (it added receive buffers), so an owner
    /// that kept frames ``receive(frame:)`` refused can offer them again.
    public var onReceiveBuffersAvailable: (() -> Void)?
    /// Frames dropped: received frames too long for the receive buffer, oversized transmissions.
    public private(set) var droppedFrames = 0

    /// The link state in the configuration space (VIRTIO_NET_S_LINK_UP). Changing it raises a
    /// configuration-change interrupt.
    public var linkUp: Bool {
        get { linkState }
        set {
            guard newValue != linkState else { return }
            linkState = newValue
            transport?.configurationChanged()
        }
    }
    private var linkState = true
    /// VIRTIO_NET_S_ANNOUNCE: an announcement was asked for and the driver has not acknowledged it.
    public private(set) var announcePending = false
    /// How many announcements the driver acknowledged (for tests and reports).
    public private(set) var acknowledgedAnnouncements = 0

    private weak var transport: VirtioMMIO?

    /// A network device with MAC address `mac` (6 bytes).
    public init(mac: [UInt8] = VirtioNetwork.defaultMAC) {
        precondition(mac.count == 6, "a MAC address is 6 bytes")
        self.mac = mac
    }

    public var deviceID: UInt32 { 1 }
    public var deviceFeatures: UInt64 { Feature.mac | Feature.status | Feature.controlQueue | Feature.guestAnnounce }
    public var queueCount: Int { 3 }
    public var maximumQueueSize: Int { 256 }

    /// `struct virtio_net_config`: mac, status (the fields after it exist only with features not
    /// offered).
    public var configuration: [UInt8] {
        let status = (linkUp ? StatusBit.linkUp : 0) | (announcePending ? StatusBit.announce : 0)
        return mac + [status, 0]
    }

    public func attach(to transport: VirtioMMIO) { self.transport = transport }

    public func queueNotified(_ queue: Int) {
        switch queue {
        case VirtioNetwork.transmitQueue: transmit()
        case VirtioNetwork.receiveQueue: onReceiveBuffersAvailable?()
        case VirtioNetwork.controlQueue: serveControlQueue()
        default: break
        }
    }

    public func reset() { announcePending = false }

    /// Asks the guest to announce itself (gratuitous ARP for each of its addresses): sets
    /// VIRTIO_NET_S_ANNOUNCE and raises a configuration interrupt. Does nothing if the driver did
    /// not accept VIRTIO_NET_F_GUEST_ANNOUNCE (or is not running); the host's own RARP
    /// announcement still moves the MAC address then. An input: called only through
    /// ``Machine/apply(_:)``.
    func announce() {
        guard let transport, transport.isLive, transport.hasNegotiated(Feature.guestAnnounce | Feature.controlQueue) else { return }
        announcePending = true
        transport.configurationChanged()
    }

    /// Each control request: `{u8 class, u8 command}`, the command's data, then one writable byte
    /// for the answer. Only ANNOUNCE/ACK is offered; anything else is answered VIRTIO_NET_ERR, as
    /// QEMU answers a class it does not know.
    private func serveControlQueue() {
        guard let transport else { return }
        var served = false
        while let request = transport.nextRequest(queue: VirtioNetwork.controlQueue) {
            guard request.readableLength >= 2, request.writableLength >= 1 else {
                transport.fail("virtio-net: control request without its header or answer byte")
                return
            }
            let header = request.read(from: transport.memory, offset: 0, count: 2)
            var answer = Control.error
            if header[0] == Control.announceClass, header[1] == Control.announceAck {
                if announcePending { acknowledgedAnnouncements += 1 }
                announcePending = false
                answer = Control.ok
            }
            // The answer byte is the last writable byte of the chain.
            request.write([answer], to: transport.memory, offset: request.writableLength - 1)
            transport.complete(request, written: 1)
            served = true
        }
        if served { transport.notifyDriver(queue: VirtioNetwork.controlQueue) }
    }

    /// Whether a frame delivered now would find a receive buffer (the driver is running and has
    /// posted one). A pure query: the host asks it before logging a frame, and keeps frames while
    /// it is false, as QEMU's net queue does (`qemu_can_receive_packet`), instead of offering
    /// frames the device would have to drop.
    public var canReceive: Bool {
        transport?.mayHaveAvailableRequests(queue: VirtioNetwork.receiveQueue) ?? false
    }

    /// Delivers an incoming Ethernet frame (without FCS) to the guest: fills the next receive
    /// buffer (zeroed header with `num_buffers` = 1, then the frame) and interrupts.
    ///
    /// Returns true if the frame was consumed: delivered, or dropped because it does not fit the
    /// driver's buffer (counted in ``droppedFrames``). Returns false if the device cannot take a
    /// frame now: the driver is not running or has no receive buffer posted. The owner may keep
    /// the frame and retry after ``onReceiveBuffersAvailable``, or drop it as a real NIC would.
    @discardableResult
    func receive(frame: [UInt8]) -> Bool {
        guard let transport, transport.isLive,
              let request = transport.nextRequest(queue: VirtioNetwork.receiveQueue) else { return false }
        guard request.readable.isEmpty else {
            transport.fail("virtio-net: receive buffer with device-readable descriptors")
            return false
        }
        guard VirtioNetwork.headerSize + frame.count <= request.writableLength else {
            // As QEMU without mergeable buffers: drop the frame, keep the buffer.
            transport.giveBack(request)
            droppedFrames += 1
            return true
        }
        var header = [UInt8](repeating: 0, count: VirtioNetwork.headerSize)
        header[10] = 1   // num_buffers
        let memory = transport.memory
        request.write(header, to: memory, offset: 0)
        request.write(frame, to: memory, offset: VirtioNetwork.headerSize)
        transport.complete(request, written: VirtioNetwork.headerSize + frame.count)
        transport.notifyDriver(queue: VirtioNetwork.receiveQueue)
        return true
    }

    private func transmit() {
        guard let transport else { return }
        while let request = transport.nextRequest(queue: VirtioNetwork.transmitQueue) {
            let length = request.readableLength
            guard length >= VirtioNetwork.headerSize else {
                transport.fail("virtio-net: transmit buffer shorter than the header")
                return
            }
            let frameLength = length - VirtioNetwork.headerSize
            let frame: [UInt8]? = frameLength <= VirtioNetwork.maximumFrameSize
                ? request.read(from: transport.memory, offset: VirtioNetwork.headerSize, count: frameLength)
                : nil
            transport.complete(request, written: 0)
            if let frame { onTransmit(frame) } else { droppedFrames += 1 }
        }
    }
}

// MARK: Snapshot

extension VirtioNetwork {
    /// Writes the MAC address (checked on restore), the link state, the drop counter and the
    /// announcement state.
    public func save(to writer: inout StateWriter) {
        writer.writeBytes(mac)
        writer.writeBool(linkState)
        writer.writeUInt64(UInt64(droppedFrames))
        writer.writeBool(announcePending)
        writer.writeUInt64(UInt64(acknowledgedAnnouncements))
    }

    /// Reads what ``save(to:)`` wrote; the MAC address must be this device's.
    public func restore(from reader: inout StateReader) throws(SnapshotError) {
        let savedMAC = Array(try reader.readBytes(count: 6, "virtio-net MAC address"))
        let link = try reader.readBool("virtio-net link state")
        let dropped = try reader.readUInt64("virtio-net dropped frames")
        let announcing = try reader.readBool("virtio-net announcement pending")
        let announced = try reader.readUInt64("virtio-net acknowledged announcements")
        guard savedMAC == mac else {
            throw .deviceMismatch("the network card's MAC address is \(Self.format(savedMAC)) in the snapshot and \(Self.format(mac)) on this machine")
        }
        guard dropped <= UInt64(Int.max) else { throw reader.invalid("virtio-net dropped frame count \(dropped) is too large") }
        guard announced <= UInt64(Int.max) else { throw reader.invalid("virtio-net announcement count \(announced) is too large") }
        linkState = link
        droppedFrames = Int(dropped)
        announcePending = announcing
        acknowledgedAnnouncements = Int(announced)
    }

    /// `mac` as people write it: "52:54:00:12:34:56" (``MACAddress/format(_:)``).
    public static func format(_ mac: [UInt8]) -> String { MACAddress.format(mac) }
}
