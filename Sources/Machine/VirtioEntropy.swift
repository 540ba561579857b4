/// A virtio entropy device (virtio-rng, device id 4; virtio 1.2 §5.4).
///
/// One request queue of device-writable buffers. Each request is filled from ``source`` when the
/// driver notifies the queue; if the source returns nothing, the request waits (it stays in the
/// available ring) until the owner calls ``serviceRequests()``. At most ``maximumRequestBytes`` are
/// written per request (the driver accepts any non-zero amount).
public final class VirtioEntropy: VirtioDevice {
    /// Largest number of bytes placed in one request, bounding host work per guest request.
    public static let maximumRequestBytes = 4096

    /// Where the bytes come from.
    public var source: any EntropySource
    private weak var transport: VirtioMMIO?

    /// An entropy device drawing from `source` (by default a ``SeededEntropySource`` seeded with 0).
    public init(source: any EntropySource = SeededEntropySource(seed: 0)) {
        self.source = source
    }

    public var deviceID: UInt32 { 4 }
    public var deviceFeatures: UInt64 { 0 }
    public var queueCount: Int { 1 }
    public var maximumQueueSize: Int { 64 }
    public var configuration: [UInt8] { [] }

    public func attach(to transport: VirtioMMIO) { self.transport = transport }

    public func queueNotified(_ queue: Int) { fill() }

    /// Serves waiting requests now (after the owner made more entropy available to ``source``).
    public func serviceRequests() {
        fill()
        transport?.notifyDriver(queue: 0)
    }

    private func fill() {
        guard let transport else { return }
        while let request = transport.nextRequest(queue: 0) {
            let wanted = min(request.writableLength, VirtioEntropy.maximumRequestBytes)
            if wanted == 0 {
                transport.complete(request, written: 0)   // nothing to fill; hand it straight back
                continue
            }
            let bytes = source.take(wanted)
            if bytes.isEmpty {
                transport.giveBack(request)
                return
            }
            let written = request.write(bytes.prefix(wanted), to: transport.memory, offset: 0)
            transport.complete(request, written: written)
        }
    }
}

// MARK: Snapshot

extension VirtioEntropy {
    /// Writes the state of the byte source when it is a ``SeededEntropySource`` (kind 1). Any
    /// other source belongs to the owner, who must restore it (kind 0).
    public func save(to writer: inout StateWriter) {
        if let seeded = source as? SeededEntropySource {
            writer.writeUInt8(1)
            seeded.save(to: &writer)
        } else {
            writer.writeUInt8(0)
        }
    }

    /// Reads what ``save(to:)`` wrote: a seeded source replaces the current one; for kind 0 the
    /// source is left as it is.
    public func restore(from reader: inout StateReader) throws(SnapshotError) {
        let kind = try reader.readUInt8("entropy source kind")
        switch kind {
        case 0: break
        case 1: source = try SeededEntropySource(from: &reader)
        default: throw reader.invalid("entropy source kind is \(kind), expected 0 (owner's) or 1 (seeded)")
        }
    }
}
