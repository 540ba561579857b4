/// A virtio device type (block, network, entropy, ...) behind a ``VirtioMMIO`` transport.
///
/// The transport owns the generic machinery: feature negotiation, device status, virtqueues,
/// interrupts. A device describes itself (id, features, queues, configuration space) and handles
/// its queues when the driver notifies them, using ``VirtioMMIO/nextRequest(queue:)`` and
/// ``VirtioMMIO/complete(_:written:)``.
///
/// Determinism: a device is a pure function of its state and of the inputs its owner hands it.
/// It must not read the clock, randomness, sockets or files that can change.
public protocol VirtioDevice: AnyObject {
    /// The virtio device id (1 network, 2 block, 4 entropy).
    var deviceID: UInt32 { get }
    /// Device-type feature bits offered to the driver. The transport adds its own
    /// (``VirtioFeature/version1``, ``VirtioFeature/indirectDescriptors``,
    /// ``VirtioFeature/eventIndex``).
    var deviceFeatures: UInt64 { get }
    /// Number of virtqueues.
    var queueCount: Int { get }
    /// Largest size the driver may give a queue (a power of two, at most 32768).
    var maximumQueueSize: Int { get }
    /// The device-specific configuration space (read at offset 0x100 of the transport). Reads
    /// beyond its end return zero.
    var configuration: [UInt8] { get }
    /// A driver write of `size` bytes to the configuration space. Most devices ignore them.
    func writeConfiguration(offset: Int, size: Int, value: UInt64)
    /// Whether the device can operate with the features the driver accepted (checked when the
    /// driver sets FEATURES_OK; returning false makes FEATURES_OK read back clear).
    func acceptsFeatures(_ features: UInt64) -> Bool
    /// Called once, when the device is plugged into `transport`. The device keeps a weak or
    /// unowned reference to reach its queues later.
    func attach(to transport: VirtioMMIO)
    /// The driver notified `queue` (or set DRIVER_OK while buffers were waiting in it). Called
    /// only while the device is live (DRIVER_OK, no DEVICE_NEEDS_RESET) and the queue is ready.
    func queueNotified(_ queue: Int)
    /// The driver reset the device (status 0): forget negotiated state.
    func reset()
    /// Writes the device's own state for a snapshot (the transport saves the queues). Devices
    /// without state of their own write nothing (the default).
    func save(to writer: inout StateWriter)
    /// Reads what ``save(to:)`` wrote, all or nothing. Must not raise interrupts or touch queues.
    func restore(from reader: inout StateReader) throws(SnapshotError)
}

extension VirtioDevice {
    public var maximumQueueSize: Int { 256 }
    public func writeConfiguration(offset: Int, size: Int, value: UInt64) {}
    public func acceptsFeatures(_ features: UInt64) -> Bool { true }
    public func reset() {}
    public func save(to writer: inout StateWriter) {}
    public func restore(from reader: inout StateReader) throws(SnapshotError) {}
}

/// Transport-level feature bits (virtio 1.2 §6).
public enum VirtioFeature {
    /// VIRTIO_F_INDIRECT_DESC (28): descriptors may point at tables of descriptors.
    public static let indirectDescriptors: UInt64 = 1 << 28
    /// VIRTIO_F_EVENT_IDX (29): `used_event` / `avail_event` notification suppression.
    public static let eventIndex: UInt64 = 1 << 29
    /// VIRTIO_F_VERSION_1 (32): a modern (non-legacy) device. Always offered and required.
    public static let version1: UInt64 = 1 << 32
}

/// Device status bits (virtio 1.2 §2.1).
public enum VirtioStatus {
    public static let acknowledge: UInt32 = 1
    public static let driver: UInt32 = 2
    public static let driverOK: UInt32 = 4
    public static let featuresOK: UInt32 = 8
    public static let deviceNeedsReset: UInt32 = 64
    public static let failed: UInt32 = 128
}
