/// A virtio block device (device id 2; virtio 1.2 §5.2) on a ``BlockStorage``.
///
/// One request queue. Requests complete synchronously when the driver notifies the queue, so disk
/// I/O needs no event: the guest sees the result at a deterministic instruction count.
///
/// Supported requests: IN (read), OUT (write), FLUSH, GET_ID (the serial). Anything else is
/// answered VIRTIO_BLK_S_UNSUPP; out-of-range, misaligned, read-only and storage failures are
/// answered VIRTIO_BLK_S_IOERR. A chain without room for the 16-byte header or the status byte is
/// malformed and puts the device into DEVICE_NEEDS_RESET (as QEMU does).
public final class VirtioBlock: VirtioDevice {
    /// Bytes per sector in virtio-blk requests and capacity.
    public static let sectorSize = 512
    /// Length of the GET_ID answer.
    public static let serialLength = 20

    /// Device feature bits (virtio 1.2 §5.2.3).
    public enum Feature {
        public static let segmentMaximum: UInt64 = 1 << 2   // VIRTIO_BLK_F_SEG_MAX
        public static let readOnly: UInt64 = 1 << 5         // VIRTIO_BLK_F_RO
        public static let blockSize: UInt64 = 1 << 6        // VIRTIO_BLK_F_BLK_SIZE
        public static let flush: UInt64 = 1 << 9            // VIRTIO_BLK_F_FLUSH
    }

    /// Request types (virtio 1.2 §5.2.6).
    public enum RequestType {
        public static let read: UInt32 = 0        // VIRTIO_BLK_T_IN
        public static let write: UInt32 = 1       // VIRTIO_BLK_T_OUT
        public static let flush: UInt32 = 4       // VIRTIO_BLK_T_FLUSH
        public static let getID: UInt32 = 8       // VIRTIO_BLK_T_GET_ID
    }

    /// Request status bytes.
    public enum Status {
        public static let ok: UInt8 = 0
        public static let ioError: UInt8 = 1
        public static let unsupported: UInt8 = 2
    }

    /// Sectors moved per storage call, bounding host memory per step whatever the guest asks.
    static let chunkSectors = 128

    /// The medium.
    public let storage: any BlockStorage
    /// The GET_ID answer: up to 20 bytes, zero-padded.
    public let serial: [UInt8]
    private weak var transport: VirtioMMIO?
    /// Called after each flush request completed (successfully or not), on the machine's thread.
    var onFlush: (() -> Void)?
    /// The digest of the medium's contents, updated on every write (see ``contentDigest()``).
    private var digest = DiskContentDigest()

    /// A block device on `storage` answering GET_ID with `serial` (truncated to 20 bytes).
    public init(storage: any BlockStorage, serial: String = "lockstep-disk") {
        self.storage = storage
        self.serial = Array(serial.utf8.prefix(VirtioBlock.serialLength))
    }

    public var deviceID: UInt32 { 2 }
    public var queueCount: Int { 1 }
    public var maximumQueueSize: Int { 256 }

    public var deviceFeatures: UInt64 {
        Feature.segmentMaximum | Feature.blockSize | Feature.flush | (storage.isReadOnly ? Feature.readOnly : 0)
    }

    /// `struct virtio_blk_config`: capacity, size_max (0), seg_max, geometry (0), blk_size,
    /// topology (0), writeback (0), and the zeroed discard / write-zeroes fields.
    public var configuration: [UInt8] {
        var config = [UInt8](repeating: 0, count: 64)
        func put(_ value: UInt64, at offset: Int, size: Int) {
            for i in 0..<size { config[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        put(storage.sectorCount, at: 0, size: 8)
        // Header and status take two descriptors when the driver does not use indirect ones.
        put(UInt64(maximumQueueSize - 2), at: 12, size: 4)
        put(UInt64(VirtioBlock.sectorSize), at: 20, size: 4)
        return config
    }

    public func attach(to transport: VirtioMMIO) { self.transport = transport }

    /// The digest of the whole medium's contents (``DiskContentDigest``): the first call reads the
    /// medium; later ones cost nothing, because every write the device makes updates it.
    public func contentDigest() throws(BlockStorageError) -> UInt64 { try digest.value(of: storage) }

    /// ``contentDigest()`` as the state hash and the state digest take it: a medium that cannot be
    /// read counts as a fixed value (the absence of a digest), which a healthy peer's will not match.
    var stateDigestValue: UInt64 { (try? contentDigest()) ?? 0xD15C_0000_BAD0_BAD0 }

    /// Reads the medium now for ``contentDigest()``, so that the first snapshot or state hash
    /// does not pay for it (a node does this before it serves).
    public func prepareDigest() throws(BlockStorageError) { try digest.prepare(storage) }

    /// The medium was changed from outside the machine (a resync wrote it): the digest is
    /// computed again when next asked for.
    public func mediumChanged() { digest.invalidate() }

    public func queueNotified(_ queue: Int) {
        guard let transport else { return }
        while let request = transport.nextRequest(queue: queue) {
            handle(request, transport)
        }
    }

    private func handle(_ request: VirtioRequest, _ transport: VirtioMMIO) {
        let memory = transport.memory
        let readable = request.readableLength, writable = request.writableLength
        guard readable >= 16, writable >= 1 else {
            transport.fail("virtio-blk: request without header or status byte")
            return
        }
        let header = request.read(from: memory, offset: 0, count: 16)
        let type = UInt32(littleEndianBytes: header[0..<4])
        let sector = UInt64(littleEndianBytes: header[8..<16])
        var written = 0
        let status: UInt8
        switch type {
        case RequestType.read:
            let length = writable - 1
            if let count = sectorCount(sector, length) {
                var done = 0
                var failed = false
                while done < count {
                    let n = min(VirtioBlock.chunkSectors, count - done)
                    do {
                        let data = try storage.readSectors(at: sector + UInt64(done), count: n)
                        written += request.write(data, to: memory, offset: done * VirtioBlock.sectorSize)
                    } catch {
                        failed = true
                        break
                    }
                    done += n
                }
                status = failed ? Status.ioError : Status.ok
            } else {
                status = Status.ioError
            }
        case RequestType.write:
            let length = readable - 16
            if storage.isReadOnly {
                status = Status.ioError
            } else if let count = sectorCount(sector, length) {
                var done = 0
                var failed = false
                while done < count {
                    let n = min(VirtioBlock.chunkSectors, count - done)
                    let data = request.read(from: memory, offset: 16 + done * VirtioBlock.sectorSize,
                                            count: n * VirtioBlock.sectorSize)
                    do {
                        try storage.writeSectors(at: sector + UInt64(done), data)
                        try digest.noteWritten(storage, sector: sector + UInt64(done), count: n)
                    } catch {
                        failed = true
                        break
                    }
                    done += n
                }
                status = failed ? Status.ioError : Status.ok
            } else {
                status = Status.ioError
            }
        case RequestType.flush:
            do { try storage.flush(); status = Status.ok } catch { status = Status.ioError }
            onFlush?()
        case RequestType.getID:
            let n = min(VirtioBlock.serialLength, writable - 1)
            var id = serial
            id += [UInt8](repeating: 0, count: VirtioBlock.serialLength - id.count)
            written += request.write(id[0..<n], to: memory, offset: 0)
            status = Status.ok
        default:
            status = Status.unsupported
        }
        request.write(CollectionOfOne(status), to: memory, offset: writable - 1)
        transport.complete(request, written: written + 1)
    }

    /// The number of sectors in a transfer of `length` bytes at `sector`, or nil if the length is
    /// not whole sectors or the range passes the end of the disk.
    private func sectorCount(_ sector: UInt64, _ length: Int) -> Int? {
        guard length % VirtioBlock.sectorSize == 0 else { return nil }
        let count = UInt64(length / VirtioBlock.sectorSize)
        let capacity = storage.sectorCount
        guard sector <= capacity, count <= capacity - sector else { return nil }
        return Int(count)
    }
}
