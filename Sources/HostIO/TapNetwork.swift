import Foundation
import Synchronization

/// `--netdev tap,ifname=NAME` and `--netdev bridge,br=BRIDGE[,ifname=NAME]`: a TAP device, the
/// guest's card as an Ethernet interface of the host (Linux's `Documentation/networking/tuntap.rst`).
/// What the guest sends comes out of the interface on the host; what the host sends to the
/// interface (or the bridge forwards to it) goes to the guest.
///
/// - `tap`: the TAP device NAME, either an existing persistent one (`ip tuntap add NAME mode tap`,
///   which stays when this backend closes) or a new one, which disappears when it closes.
/// - `bridge`: a new TAP device (or an existing persistent one) attached to the bridge BRIDGE,
///   which must exist; the TAP device is detached again, or disappears, when the backend closes.
///
/// The device is opened, and created if need be, when the backend is made (which checks the
/// configuration at once: `/dev/net/tun` openable, the privileges, the name, the bridge), and it
/// is DOWN then: no traffic until ``start(onFrame:)`` brings it UP and starts the reader thread.
/// ``takeDown()`` takes it DOWN and stops everything at once (the node that loses the arbiter
/// does so before anything else, so that a stale primary never answers for the guest's MAC).
///
/// Frames are plain Ethernet frames (`IFF_NO_PI`). No `IFF_VNET_HDR`: the guest's virtio-net card
/// offers no offloads (no checksum offload, TSO or mergeable buffers), so every frame is complete
/// and needs no virtio-net header, and the kernel is never asked to offload.
///
/// Creating a TAP device, bringing it up or down and attaching it to a bridge need CAP_NET_ADMIN.
public final class TapNetwork: NetworkBackend, @unchecked Sendable {
    /// The TAP device's name.
    public let interfaceName: String
    /// The bridge it is attached to, for `bridge`.
    public let bridge: String?
    /// Whether the device is persistent (stays when the backend closes).
    public let isPersistent: Bool

    /// TUNSETIFF and TUNGETIFF (`<linux/if_tun.h>`), and the flags used with them.
    private static let setInterfaceRequest: UInt = 0x400454ca
    private static let getInterfaceRequest: UInt = 0x800454d2
    private static let tapFlag: Int32 = 0x0002         // IFF_TAP
    private static let noPacketInfoFlag: Int32 = 0x1000  // IFF_NO_PI
    private static let persistFlag: Int32 = 0x0800     // IFF_PERSIST
    /// The largest frame a TAP device hands over (the reader's buffer).
    static let maximumFrameSize = 65_536

    private enum Phase { case ready, running, down, closed }

    private let descriptor: Int32
    /// Whether this backend attached the device to the bridge (and detaches it on close).
    private let attachedToBridge: Bool
    private let interface: NetworkInterface
    private let wake: WakePipe
    private let framesForGuest = FrameQueue()
    private let stopReading = StopSignal()

    /// Tells the reader thread to return (an `Atomic` cannot be captured by the thread's closure).
    private final class StopSignal: Sendable {
        private let stopped = Atomic<Bool>(false)
        func stop() { stopped.store(true, ordering: .releasing) }
        var isStopped: Bool { stopped.load(ordering: .acquiring) }
    }

    private let lock = NSLock()
    private var phase = Phase.ready     // guarded by lock; also serialises writes with takeDown
    private var reader: HostThread?      // guarded by lock

    /// Opens (creating it if need be) the TAP device `interfaceName`, DOWN, and for a `bridge`
    /// attaches it to that bridge.
    ///
    /// - Throws: ``NetworkBackendError/invalidOption(_:reason:)`` for an invalid name,
    ///   ``NetworkBackendError/noSuchBridge(_:)``, ``NetworkBackendError/notABridge(_:)``,
    ///   ``NetworkBackendError/tunUnavailable(reason:)``,
    ///   ``NetworkBackendError/permissionDenied(operation:)`` without CAP_NET_ADMIN,
    ///   ``NetworkBackendError/interfaceBusy(_:)`` when another process has the device,
    ///   ``NetworkBackendError/notATap(_:)``, ``NetworkBackendError/attachedElsewhere(interface:master:)``.
    public init(interfaceName: String, bridge: String? = nil) throws(NetworkBackendError) {
        guard NetdevConfiguration.isValidInterfaceName(interfaceName) else {
            throw .invalidOption("ifname=\(interfaceName)", reason: "not an interface name Linux takes (1 to 15 bytes, no '/', ':', '%' or white space); give another name")
        }
        let interface = NetworkInterface(name: interfaceName)
        var bridgeInterface: NetworkInterface?
        if let bridge {
            guard NetdevConfiguration.isValidInterfaceName(bridge) else {
                throw .invalidOption("br=\(bridge)", reason: "not an interface name Linux takes; give the bridge's name")
            }
            let candidate = NetworkInterface(name: bridge)
            guard candidate.exists else { throw .noSuchBridge(bridge) }
            guard candidate.isBridge else { throw .notABridge(bridge) }
            guard bridge != interfaceName else {
                throw .invalidOption("ifname=\(interfaceName)", reason: "the TAP device cannot have the bridge's name; give another ifname")
            }
            bridgeInterface = candidate
        }
        if interface.exists && !interface.isTunOrTap { throw .notATap(interfaceName) }
        // First what can fail without side effects: nothing may fail after the device is attached.
        let wake = try WakePipe()

        let descriptor = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENODEV, ENXIO: throw .tunUnavailable(reason: "no such device (\(String(cString: strerror(code))))")
            case EACCES, EPERM: throw .tunUnavailable(reason: "permission denied (the device's mode does not let this user open it)")
            default: throw .tunUnavailable(reason: String(cString: strerror(code)))
            }
        }
        do throws(NetworkBackendError) {
            var request = interface.makeRequest()
            request.ifr_ifru.ifru_flags = Int16(Self.tapFlag | Self.noPacketInfoFlag)
            // Sound: TUNSETIFF and TUNGETIFF read and write one `struct ifreq`, which `request` is.
            guard ioctl(descriptor, Self.setInterfaceRequest, &request) == 0 else {
                let code = errno
                switch code {
                case EPERM, EACCES: throw .permissionDenied(operation: "creating TAP device \(interfaceName) (or opening it, if another user owns it)")
                case EBUSY: throw .interfaceBusy(interfaceName)
                case EINVAL: throw .notATap(interfaceName)
                default: throw .systemCall("TUNSETIFF on \(interfaceName)", reason: String(cString: strerror(code)))
                }
            }
            var current = ifreq()
            guard ioctl(descriptor, Self.getInterfaceRequest, &current) == 0 else {
                throw .systemCall("TUNGETIFF on \(interfaceName)", reason: String(cString: strerror(errno)))
            }
            isPersistent = Int32(current.ifr_ifru.ifru_flags) & Self.persistFlag != 0
            // A persistent device may have been left UP: no traffic before start.
            try interface.setUp(false)
            var attached = false
            if let bridgeInterface {
                switch interface.master {
                case bridgeInterface.name?: break   // a persistent device already on this bridge
                case let other?: throw .attachedElsewhere(interface: interfaceName, master: other)
                case nil:
                    try bridgeInterface.addPort(interface)
                    attached = true
                }
            }
            attachedToBridge = attached
        } catch {
            // Closing the only descriptor of a device this call created deletes the device again.
            Glibc.close(descriptor)
            throw error
        }
        self.wake = wake
        self.descriptor = descriptor
        self.interfaceName = interfaceName
        self.bridge = bridge
        self.interface = interface
    }

    deinit { close() }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Brings the device UP and starts the reader thread. A second call does nothing.
    ///
    /// - Throws: ``NetworkBackendError/permissionDenied(operation:)`` without CAP_NET_ADMIN,
    ///   ``NetworkBackendError/stopped(_:)`` after ``takeDown()`` or ``close()``.
    public func start(onFrame: @escaping @Sendable () -> Void) throws(NetworkBackendError) {
        try locked { () throws(NetworkBackendError) in
            switch phase {
            case .running: return
            case .down, .closed: throw .stopped(summary)
            case .ready: break
            }
            try interface.setUp(true)
            framesForGuest.open()
            let descriptor = descriptor, wake = wake, frames = framesForGuest, stop = stopReading
            do throws(NetworkBackendError) {
                // The thread holds what it reads with, not this backend, so that dropping the
                // backend still runs deinit, which stops the thread.
                reader = try HostThread(name: "lockstep-tap") {
                    Self.read(descriptor, wake: wake, into: frames, stop: stop, onFrame: onFrame)
                }
            } catch {
                // Still ready (the queue stays open but nothing fills it): start may be retried.
                try? interface.setUp(false)
                throw error
            }
            phase = .running
        }
    }

    /// Frames received since the last call, oldest first.
    public func takeFrames() -> [[UInt8]] { framesForGuest.takeAll() }

    /// Whether frames are waiting.
    public var hasFrames: Bool { !framesForGuest.isEmpty }

    /// Writes a frame to the device (any thread). Dropped before ``start(onFrame:)``, after
    /// ``takeDown()``, and when the device cannot take it.
    public func send(_ frame: [UInt8]) {
        guard !frame.isEmpty else { return }
        // Under the lock, so that no write is in progress once takeDown has marked the backend down.
        locked {
            guard phase == .running else { return }
            _ = frame.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        }
    }

    /// Stops all traffic at once and for good: marks the backend down (no write starts any more),
    /// drops the frames waiting, takes the device DOWN, and stops the reader thread. The device
    /// stays (attached) until ``close()``.
    public func takeDown() {
        let reader: HostThread? = locked {
            if phase == .ready || phase == .running { phase = .down }
            return self.reader
        }
        framesForGuest.shut()
        if locked({ phase != .closed }) {
            try? interface.setUp(false)   // fails only without CAP_NET_ADMIN, which start needed
        }
        stopReading.stop()
        wake.wake()
        reader?.join()
    }

    /// Takes the backend down and releases the device: detaches it from the bridge if this
    /// backend attached it, and closes it, which deletes a device that is not persistent.
    public func close() {
        takeDown()
        let first: Bool = locked {
            defer { phase = .closed }
            return phase != .closed
        }
        guard first else { return }
        if attachedToBridge && isPersistent, let bridge {
            try? NetworkInterface(name: bridge).removePort(interface)
        }
        Glibc.close(descriptor)
        wake.close()
    }

    /// "tap ls0", "tap ls0 on bridge br0", "tap ls0 (persistent)".
    public var summary: String {
        var text = "tap \(interfaceName)"
        if let bridge { text += " on bridge \(bridge)" }
        if isPersistent { text += " (persistent)" }
        return text
    }

    /// The reader thread: reads frames until `stop`, putting each into `frames` and calling
    /// `onFrame` after each batch.
    private static func read(_ descriptor: Int32, wake: WakePipe, into frames: FrameQueue,
                             stop: StopSignal, onFrame: @Sendable () -> Void) {
        var buffer = [UInt8](repeating: 0, count: maximumFrameSize)
        var descriptors = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0)]
        while !stop.isStopped {
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if descriptors[1].revents != 0 { wake.drain() }
            if stop.isStopped { return }
            let events = Int32(descriptors[0].revents)
            if events & Int32(POLLNVAL) != 0 { return }
            guard events & Int32(POLLIN | POLLERR | POLLHUP) != 0 else { continue }
            var delivered = false
            // At most 64 frames per batch, then the owner hears of them.
            for _ in 0..<64 {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    if frames.append(Array(buffer[0..<count])) { delivered = true }
                    continue
                }
                let code = count < 0 ? errno : 0
                if code == EINTR { continue }
                // EAGAIN: nothing more for now. End of file or another error (the device went
                // away): stop reading.
                if code != EAGAIN && code != EWOULDBLOCK {
                    if delivered { onFrame() }
                    return
                }
                break
            }
            if delivered { onFrame() }
        }
    }
}
