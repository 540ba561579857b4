#if canImport(Glibc)
import Glibc
#endif
import Machine
import NIOConcurrencyHelpers

/// One node's copy of a replicated VM's disk: a raw image (``FileDisk``) and its record beside
/// it (``DiskRecord``, in `IMAGE.lockstep`). Every write marks its extents in the current
/// generation's record before the data is written (the record is written to the page cache, so
/// it survives a killed process; it is made durable at each flush and at a clean stop), and is
/// reported to ``onWrite`` (a primary copying the disk to a new backup re-sends what changed).
///
/// The record is nil for an image used for the first time; ``start(instance:generation:)`` or
/// ``adopt(instance:generation:)`` makes one.
public final class MirroredDisk: BlockStorage, @unchecked Sendable {
    public let image: FileDisk
    public let recordPath: String
    public let vm: String
    /// Guards `record` (the machine thread writes; a copy reads the record from
    /// the same thread, but statistics may come from others).
    private let lock = NIOLock()
    private var _record: DiskRecord?
    private var recordFile: Int32 = -1
    /// The record on file changed since it was last made durable (machine thread only).
    private var recordUnsynced = false
    /// Called with the extents of every write (machine thread).
    public var onWrite: ((ClosedRange<Int>) -> Void)?

    /// Opens `path` and its record for VM `vm`. A record of another VM, of another size, or
    /// that cannot be read is a typed error that says what to do.
    public init(path: String, vm: String) throws(MirroredDiskError) {
        do { image = try FileDisk(path: path) } catch { throw .image(error.description) }
        recordPath = path + ".lockstep"
        self.vm = vm
        let fd = open(recordPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .record(recordPath, .unreadable(String(cString: strerror(errno)))) }
        recordFile = fd
        let bytes = MirroredDisk.readAll(fd)
        guard !bytes.isEmpty else { return }
        var record: DiskRecord
        do { record = try DiskRecord(decoding: bytes) } catch {
            throw .record(recordPath, error)
        }
        guard record.vm == vm else { throw .otherVM(path: path, vm: record.vm, wanted: vm) }
        guard record.sectorCount == image.sectorCount else {
            throw .resized(path: path, recorded: record.sectorCount, actual: image.sectorCount)
        }
        let boot = MirroredDisk.bootID()
        if !record.clean && record.bootID != boot {
            // The host went down while the disk was in use: writes recorded in the page cache
            // only may be missing from the record.
            record.historyTrusted = false
        }
        record.clean = false
        record.bootID = boot
        _record = record
        try saveRecord(sync: true)
    }

    deinit { if recordFile >= 0 { close(recordFile) } }

    /// The record (nil: a fresh image, never used by a VM).
    public var record: DiskRecord? { lock.withLock { _record } }

    /// Creates the record of a VM that starts on this disk (a fresh VM, or a cold start).
    public func start(instance: [UInt8], generation: UInt64) throws(MirroredDiskError) {
        lock.withLock {
            _record = DiskRecord(vm: vm, instance: instance, sectorCount: image.sectorCount, generation: generation,
                                 bootID: MirroredDisk.bootID())
        }
        try saveRecord(sync: true)
    }

    /// The VM moved on to `generation` on this node (a claim it won).
    public func beginGeneration(_ generation: UInt64) throws(MirroredDiskError) {
        lock.withLock { _record?.beginGeneration(generation) }
        try saveRecord(sync: true)
    }

    /// A resync into this disk begins (`full`: every extent will be written): until
    /// ``adopt(instance:generation:)``, the disk is inconsistent.
    public func beginResync(full: Bool) throws(MirroredDiskError) {
        lock.withLock {
            if _record == nil {
                // A fresh image: a record that only says "a full resync is under way".
                _record = DiskRecord(vm: vm, instance: [], sectorCount: image.sectorCount, generation: 0, bootID: MirroredDisk.bootID())
                _record!.state = .fullResync
            } else if full || _record!.state == .fullResync {
                _record!.state = .fullResync
            } else {
                _record!.state = .partialResync
            }
        }
        try saveRecord(sync: true)
    }

    /// The resync finished and the machine state proved the copy equal: this disk is the
    /// primary's at `generation`.
    public func adopt(instance: [UInt8], generation: UInt64) throws(MirroredDiskError) {
        lock.withLock { _record?.adopt(instance: instance, generation: generation) }
        try saveRecord(sync: true)
    }

    /// Writes one extent's contents (a resync; empty `data`: all zeros); the extent is marked
    /// first.
    public func writeExtent(_ index: Int, _ data: [UInt8]) throws(MirroredDiskError) {
        guard let record = record else { throw .image("no record") }
        guard index >= 0, index < record.extentCount else { throw .image("extent \(index) is beyond the disk's \(record.extentCount)") }
        let sector = UInt64(index) * record.extentSectors
        let length = Int(min(record.extentSectors, image.sectorCount - sector)) * 512
        guard data.isEmpty || data.count == length else { throw .image("extent \(index) came with \(data.count) bytes, not \(length)") }
        do {
            if data.isEmpty {
                // An all-zero extent: a new backup's image is sparse, and its holes already read
                // as zeros; reading them costs no disk I/O, while writing 1 GiB of zeros into them
                // cost a full copy seconds (docs/benchmarks.md, "The pool"). The extent is marked
                // as a write would mark it.
                if ZeroBytes.allZero(try image.readSectors(at: sector, count: length / 512)) {
                    try mark(sector: sector, count: length / 512)
                    return
                }
                try writeSectors(at: sector, [UInt8](repeating: 0, count: length))
            } else {
                try writeSectors(at: sector, data)
            }
        } catch { throw .image(error.description) }
    }

    /// Bytes in extent `index` (the last one may be short; 0 outside the disk or without a record).
    public func extentLength(_ index: Int) -> Int {
        guard let record = record, index >= 0, index < record.extentCount else { return 0 }
        let sector = UInt64(index) * record.extentSectors
        return Int(min(record.extentSectors, image.sectorCount - sector)) * 512
    }

    /// One extent's contents (a primary copying to its backup).
    public func readExtent(_ index: Int) throws(MirroredDiskError) -> [UInt8] {
        guard let record = record else { throw .image("no record") }
        let sector = UInt64(index) * record.extentSectors
        let count = Int(min(record.extentSectors, image.sectorCount - sector))
        do { return try image.readSectors(at: sector, count: count) } catch { throw .image(error.description) }
    }

    /// Stops using the disk: the record says so and is made durable.
    public func closeCleanly() {
        lock.withLock { _record?.clean = true }
        try? saveRecord(sync: true)
    }

    // MARK: BlockStorage

    public var sectorCount: UInt64 { image.sectorCount }
    public var isReadOnly: Bool { false }

    public func readSectors(at sector: UInt64, count: Int) throws(BlockStorageError) -> [UInt8] {
        try image.readSectors(at: sector, count: count)
    }

    public func writeSectors(at sector: UInt64, _ data: [UInt8]) throws(BlockStorageError) {
        let extents = try mark(sector: sector, count: data.count / 512)
        try image.writeSectors(at: sector, data)
        if let extents { onWrite?(extents) }
    }

    /// Marks the extents of `count` sectors at `sector` written in the record (saved, not yet
    /// synced, if that changed it) before they are written; returns them.
    @discardableResult
    private func mark(sector: UInt64, count: Int) throws(BlockStorageError) -> ClosedRange<Int>? {
        let (extents, changed): (ClosedRange<Int>?, Bool) = lock.withLock {
            guard _record != nil else { return (nil, false) }
            let range = _record!.extents(sector: sector, count: count)
            var changed = false
            for index in range where index < _record!.extentCount { changed = _record!.markWritten(index) || changed }
            return (range, changed)
        }
        if changed {
            do { try saveRecord(sync: false) } catch { throw BlockStorageError(error.description) }
            recordUnsynced = true
        }
        return extents
    }

    /// Makes the record durable first (only if a write changed it since: the record on file is
    /// current, written as each extent was first marked), then the image.
    public func flush() throws(BlockStorageError) {
        if recordUnsynced {
            guard fdatasync(recordFile) == 0 else {
                throw BlockStorageError("fdatasync of \(recordPath) failed: \(String(cString: strerror(errno)))")
            }
            recordUnsynced = false
        }
        try image.flush()
    }

    // MARK: The record file

    /// Writes the record (whole; it is small) and, if `sync`, makes it durable.
    private func saveRecord(sync: Bool) throws(MirroredDiskError) {
        let bytes: [UInt8]? = lock.withLock { _record?.encoded }
        guard let bytes else { return }
        let written = bytes.withUnsafeBytes { pwrite(recordFile, $0.baseAddress, $0.count, 0) }
        guard written == bytes.count, ftruncate(recordFile, off_t(bytes.count)) == 0 else {
            throw .record(recordPath, .unreadable(String(cString: strerror(errno))))
        }
        if sync && fdatasync(recordFile) != 0 { throw .record(recordPath, .unreadable(String(cString: strerror(errno)))) }
        if sync { recordUnsynced = false }
    }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            result += buffer[0..<n]
            offset += off_t(n)
        }
        return result
    }

    /// This boot of the host (Linux's `/proc/sys/kernel/random/boot_id`), or "" where unknown.
    static func bootID() -> String {
        let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        let bytes = readAll(fd)
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A disk a node cannot use, and what to do about it.
public enum MirroredDiskError: Error, Equatable, CustomStringConvertible {
    case image(String)
    case record(String, DiskRecordError)
    case otherVM(path: String, vm: String, wanted: String)
    case resized(path: String, recorded: UInt64, actual: UInt64)

    public var description: String {
        switch self {
        case .image(let why): return "disk image: \(why)"
        case .record(let path, let error): return "\(path): \(error); move it aside to treat the image as never used (the other node must then resync it in full)"
        case .otherVM(let path, let vm, let wanted):
            return "\(path) is the disk of VM '\(vm)', not '\(wanted)': give this VM's own image (or remove \(path).lockstep to reuse the image, which a backup then resyncs in full)"
        case .resized(let path, let recorded, let actual):
            return "\(path) has \(actual) sectors but its record says \(recorded): the image was resized outside Lockstep; restore its size"
        }
    }
}
