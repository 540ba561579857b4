import HostIO

/// The report of a disk this node mirrors (apart from ``DiskReport``, which is wire format only,
/// so that the replication messages' fuzz harness needs none of the disk's I/O).
extension DiskReport {
    /// The report of `disk` as it is now.
    public init(disk: MirroredDisk, wantsFull: Bool) {
        let record = disk.record
        self.init(instance: record?.instance ?? [], generation: record?.generation ?? 0, sectorCount: disk.sectorCount,
                  extentSectors: record?.extentSectors ?? DiskRecord.defaultExtentSectors, state: record?.state ?? .consistent,
                  historyTrusted: record?.historyTrusted ?? false, written: record?.currentWrites.bytes ?? [],
                  wantsFull: wantsFull)
    }
}
