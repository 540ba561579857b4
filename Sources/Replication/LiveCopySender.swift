import Foundation
import HostIO
import Machine

/// A primary's live copy to one joining backup (docs/disks.md, "The copy while the guest runs"):
/// RAM pages in rounds over what the guest wrote meanwhile (``Machine/beginLiveCopy()``), and,
/// with disks, the extents of each disk's resync plan likewise, disk after disk (``DiskCopy``),
/// together within `--sync-rate` (``CopyRate``); when what is left is small, the role pauses the
/// guest and ``finish()`` sends the rest and the final snapshot.
///
/// Used on the machine thread only, between slices.
final class LiveCopySender {
    /// The join it serves (a new join abandons it).
    let join: UInt64
    let machine: Machine
    let link: any PrimaryLogChannel
    /// The VM's disks, in order (empty: a disk-less VM).
    let disks: [MirroredDisk]
    let log: NodeLog
    private(set) var diskCopy: DiskCopy?
    private var rate: CopyRate
    private var ramPending: [Int]
    private var ramCursor = 0
    private(set) var ramRounds = 1
    private(set) var ramPagesSent = 0
    private(set) var ramBytesSent: UInt64 = 0
    /// Pages of the first round (all of the guest's memory that is not zero).
    let firstRoundPages: Int
    let started: Double
    private var reported: Double

    /// Pages per message (256 KiB before compression).
    static let pagesPerBatch = 64
    /// The final pause may come when at most this many pages were written since the last round ...
    static let finalPages = 256
    /// ... or after this many rounds.
    static let maximumRounds = 30

    init(join: UInt64, machine: Machine, link: any PrimaryLogChannel, disks: [MirroredDisk], diskCopy: DiskCopy?,
         bytesPerSecond: Double, log: NodeLog, now: Double) {
        self.join = join
        self.machine = machine
        self.link = link
        self.disks = disks
        self.diskCopy = diskCopy
        self.log = log
        let unit = Double(max(LiveCopySender.pagesPerBatch * 4096, diskCopy?.extentBytes.max() ?? 0))
        rate = CopyRate(bytesPerSecond: bytesPerSecond, unit: unit, now: now)
        ramPending = machine.beginLiveCopy()
        firstRoundPages = ramPending.count
        started = now
        reported = now
        log("live copy to the backup: \(ramPending.count) memory pages (\(Self.megabytes(UInt64(ramPending.count * 4096))) MiB) at up to \(Self.megabytes(UInt64(bytesPerSecond))) MiB/s while the guest runs")
    }

    /// The guest wrote these extents of disk `disk` (its place).
    func noteDiskWrite(disk: Int, _ extents: ClosedRange<Int>) { diskCopy?.noteWritten(disk: disk, extents) }

    /// Whether the final pause may come now.
    var mayFinish: Bool {
        let ramDone = ramCursor >= ramPending.count
            && (machine.writtenPageCount <= Self.finalPages || ramRounds > Self.maximumRounds)
        return ramDone && (diskCopy?.mayFinish ?? true)
    }

    /// Sends what the rate allows now; false if the backup went away (or the disk failed).
    func step(now: Double) -> Bool {
        var budget = rate.budget(now: now)
        let batchBytes = Double(Self.pagesPerBatch * 4096)
        while budget >= batchBytes || (budget > 0 && ramCursor < ramPending.count && ramPending.count - ramCursor < Self.pagesPerBatch) {
            if ramCursor >= ramPending.count {
                // A round is over: the next one is what the guest wrote meanwhile.
                guard machine.writtenPageCount > Self.finalPages, ramRounds <= Self.maximumRounds else { break }
                ramPending = machine.takeWrittenPages()
                ramCursor = 0
                ramRounds += 1
                continue
            }
            let batch = Array(ramPending[ramCursor..<min(ramCursor + Self.pagesPerBatch, ramPending.count)])
            ramCursor += batch.count
            guard sendPages(batch) else { return false }
            budget -= Double(batch.count * 4096)
        }
        if var copy = diskCopy {
            let before = copy.sentBytes
            var allowance = budget
            let extents = copy.next(budget: &allowance)
            guard sendExtents(extents, on: &copy) else { return false }
            // The rate is for the wire: an extent costs what it sent (all-zero ones nothing but
            // a token 4 KiB each, for the reading), not its size.
            budget -= Double(copy.sentBytes - before) + Double(extents.count * 4096)
            diskCopy = copy
        }
        rate.keep(budget)
        if now - reported >= 1 {
            reported = now
            let elapsed = max(now - started, 0.001)
            let bytes = ramBytesSent + (diskCopy?.sentBytes ?? 0)
            var line = "live copy: memory round \(ramRounds), \(ramPagesSent) pages sent, \(max(0, ramPending.count - ramCursor)) left in the round, \(machine.writtenPageCount) written since it began"
            if let diskCopy {
                line += "; disk round \(diskCopy.rounds), \(diskCopy.sentExtents) extents sent, \(diskCopy.pendingCount) left"
            }
            log(line + "; \(Self.megabytes(bytes)) MiB on the wire (\(Self.megabytes(UInt64(Double(bytes) / elapsed))) MiB/s)")
        }
        return true
    }

    /// How far the copy is, for the status file: the first round's pages and the planned
    /// extents count, each once (a disk's share by its extent size).
    var progress: NodeRuntimeStatus.Copy {
        let ramTotal = UInt64(firstRoundPages) * 4096
        let ramDone = UInt64(min(ramPagesSent, firstRoundPages)) * 4096
        var diskTotal: UInt64 = 0, diskDone: UInt64 = 0
        if let diskCopy {
            let planned = diskCopy.plannedExtents.reduce(0, +)
            diskTotal = zip(diskCopy.plannedExtents, diskCopy.extentBytes).reduce(0) { $0 + UInt64($1.0) * UInt64($1.1) }
            if planned > 0 { diskDone = UInt64(Double(min(diskCopy.sentExtents, planned)) / Double(planned) * Double(diskTotal)) }
        }
        let phase: NodeRuntimeStatus.Copy.Phase = ramPagesSent < firstRoundPages ? .memory
            : (diskCopy.map { $0.sentExtents < $0.plannedExtents.reduce(0, +) } ?? false) ? .disk : .final
        return NodeRuntimeStatus.Copy(side: .sending, phase: phase, bytesDone: ramDone + diskDone, bytesTotal: ramTotal + diskTotal)
    }

    /// Seconds until the rate allows more.
    var wait: Double { rate.wait }

    /// With the guest stopped: sends the disks' remaining extents, then returns the final
    /// snapshot (the state and the pages written since the last round); nil if the backup went
    /// away or the state cannot be saved.
    func finish() -> [UInt8]? {
        if var copy = diskCopy {
            guard sendExtents(copy.rest(), on: &copy) else { machine.endLiveCopy(); return nil }
            diskCopy = copy
        }
        let finalPages = machine.writtenPageCount
        let snapshot: [UInt8]
        do { snapshot = try machine.saveLiveCopySnapshot() } catch {
            log("cannot save the machine's state for the backup: \(error)")
            return nil
        }
        var line = "live copy: final pause: \(finalPages) memory pages"
        if let diskCopy { line += " and \(diskCopy.sentExtents) disk extents in \(diskCopy.rounds) round(s) (\(Self.megabytes(diskCopy.sentBytes)) MiB on the wire)" }
        log(line + "; memory: \(ramPagesSent) pages in \(ramRounds) round(s) (\(Self.megabytes(ramBytesSent)) MiB on the wire) before it")
        return snapshot
    }

    /// The backup went away or a new join replaced this one.
    func abandon() { machine.endLiveCopy() }

    private func sendPages(_ pages: [Int]) -> Bool {
        let raw = machine.ramPages(pages)
        let packed = Zstd.compress(raw)
        let compressed = packed.count < raw.count
        let message = ReplicationMessage.ramPages(pages: pages.map { UInt32($0) }, compressed: compressed, bytes: compressed ? packed : raw)
        guard link.sendDiskMessages([message]) else { return false }
        ramPagesSent += pages.count
        ramBytesSent += UInt64(compressed ? packed.count : raw.count)
        return true
    }

    /// Reads and sends `extents` (all-zero ones as empty messages, others zstd-compressed when
    /// that is smaller); false if the backup went away or a disk cannot be read (then the
    /// backup is refused).
    private func sendExtents(_ extents: [DiskCopy.Extent], on state: inout DiskCopy) -> Bool {
        guard !extents.isEmpty else { return true }
        var messages: [ReplicationMessage] = []
        var bytes: UInt64 = 0
        for extent in extents {
            let disk = disks[extent.disk]
            let data: [UInt8]
            do { data = try disk.readExtent(extent.index) } catch {
                log("disk \(disk.image.path): cannot read extent \(extent.index) for the backup: \(error)")
                link.refuseJoin(reason: "the primary cannot read its disk \(disk.image.path): \(error)")
                return false
            }
            let place = UInt32(extent.disk), index = UInt64(extent.index)
            if ZeroBytes.allZero(data) {
                messages.append(.diskExtent(disk: place, index: index, compressed: false, bytes: []))
                continue
            }
            let packed = Zstd.compress(data)
            let compressed = packed.count < data.count
            bytes += UInt64(compressed ? packed.count : data.count)
            messages.append(.diskExtent(disk: place, index: index, compressed: compressed, bytes: compressed ? packed : data))
        }
        guard link.sendDiskMessages(messages) else { return false }
        state.sent(extents: extents.count, bytes: bytes)
        return true
    }

    static func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
}
