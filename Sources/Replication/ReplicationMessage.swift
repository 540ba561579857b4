import HostIO
import Machine
import Replay

/// One entry of the replicated log: the live runner's journal records (an input at an
/// instruction count, a progress mark, a checkpoint), carried to the backup as they are.
public typealias LogEntry = JournalRecord

/// What a node says when it connects: which VM, who it is, and a fresh nonce for the
/// challenge-response authentication (see ``PeerAuthentication``).
public struct Hello: Equatable, Sendable {
    public var vm: String
    public var nodeID: String
    public var nonce: [UInt8]

    public init(vm: String, nodeID: String, nonce: [UInt8]) {
        self.vm = vm
        self.nodeID = nodeID
        self.nonce = nonce
    }
}

/// The messages of the logging channel (docs/replication.md has the wire format).
public enum ReplicationMessage: Equatable, Sendable {
    /// First message on a connection, both ways.
    case hello(Hello)
    /// HMAC proof that the sender holds the shared key (answer to the peer's hello).
    case proof([UInt8])
    /// The sender refuses the connection, and says why; it closes the connection after this.
    case refuse(String)
    /// Backup -> primary: a node with no machine asks for the initial state.
    case join
    /// Backup -> primary: a synchronised backup (re)opened a line; it holds every entry before `nextSequence`.
    case resume(nextSequence: UInt64)
    /// Primary -> backup: a piece of the initial snapshot. The log continues at `startSequence`.
    case snapshotChunk(generation: UInt64, startSequence: UInt64, offset: UInt64, total: UInt64, bytes: [UInt8])
    /// Primary -> backup: one log entry.
    case entry(sequence: UInt64, LogEntry)
    /// Backup -> primary: every entry up to `sequence` is received; the backup has executed to
    /// `executedCount`; `echo` is the latest primary time the backup has heard (see ``heartbeat(time:)``).
    case ack(sequence: UInt64, executedCount: UInt64, echo: UInt64)
    /// Both ways, on every line, every heartbeat interval. From the primary, `time` is its
    /// monotonic clock in nanoseconds; from the backup, the latest such time it has heard (an
    /// echo). The echo is the primary's lease: it proves the backup still followed it after
    /// that moment of the primary's own clock.
    case heartbeat(time: UInt64)
    /// Backup -> primary: a node with no machine but disks asks for the initial state and says
    /// what each of its disks holds, in `--disk` order (at most ``Machine/maximumDiskCount``; the
    /// primary decides what to copy: ``ResyncDecision``).
    case joinWithDisks([DiskReport])
    /// Primary -> backup: the live copy begins: per disk, in order, its plan (the extents that
    /// will follow, some more than once when the guest writes them again during the copy); then
    /// the snapshot. After it, each backup disk belongs to its plan's instance at `generation`.
    case diskPlan(generation: UInt64, disks: [DiskCopyPlan])
    /// Backup -> primary: a node with no machine and no disk asks for the state by live copy
    /// (memory pages while the guest runs, then a short pause); `join` asks for one snapshot.
    case joinLive
    /// Primary -> backup: RAM pages of a live copy (4096 bytes each, in the order of `pages`;
    /// `compressed`: one zstd frame of them).
    case ramPages(pages: [UInt32], compressed: Bool, bytes: [UInt8])
    /// Primary -> backup: one extent of disk `disk` (its place, from 0): its bytes, a zstd frame
    /// of them (`compressed`), or nothing (all zeros).
    case diskExtent(disk: UInt32, index: UInt64, compressed: Bool, bytes: [UInt8])
    /// Primary -> backup: a planned switchover. The primary has stopped its guest at
    /// `instructionCount`, after entry `lastSequence`, and every output before it is released;
    /// the backup executes to there, claims the next generation and goes live at once, without
    /// waiting for the primary to be declared lost.
    case handover(lastSequence: UInt64, instructionCount: UInt64)

    enum Kind: UInt8 {
        case hello = 1, proof, refuse, join, resume, snapshotChunk, entry, ack, heartbeat, joinWithDisks, diskPlan, diskExtent,
             joinLive, ramPages, handover
    }

    var kind: Kind {
        switch self {
        case .hello: return .hello
        case .proof: return .proof
        case .refuse: return .refuse
        case .join: return .join
        case .resume: return .resume
        case .snapshotChunk: return .snapshotChunk
        case .entry: return .entry
        case .ack: return .ack
        case .heartbeat: return .heartbeat
        case .joinWithDisks: return .joinWithDisks
        case .diskPlan: return .diskPlan
        case .diskExtent: return .diskExtent
        case .joinLive: return .joinLive
        case .ramPages: return .ramPages
        case .handover: return .handover
        }
    }

    /// Appends the payload (everything after the kind byte) to `bytes`.
    func writePayload(to bytes: inout [UInt8]) {
        func writeU64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func writeU32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func writeBlob(_ blob: [UInt8]) {
            withUnsafeBytes(of: UInt32(blob.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: blob)
        }
        switch self {
        case .hello(let hello):
            writeBlob(Array(hello.vm.utf8))
            writeBlob(Array(hello.nodeID.utf8))
            writeBlob(hello.nonce)
        case .proof(let mac):
            writeBlob(mac)
        case .refuse(let reason):
            writeBlob(Array(reason.utf8))
        case .join:
            break
        case .heartbeat(let time):
            writeU64(time)
        case .resume(let next):
            writeU64(next)
        case .snapshotChunk(let generation, let start, let offset, let total, let chunk):
            writeU64(generation)
            writeU64(start)
            writeU64(offset)
            writeU64(total)
            writeBlob(chunk)
        case .entry(let sequence, let entry):
            writeU64(sequence)
            switch entry {
            case .input(let event):
                bytes.append(0)
                writeBlob(LogRecord.event(event).encoded)
            case .progress(let count):
                bytes.append(1)
                writeU64(count)
            case .checkpoint(let checkpoint):
                bytes.append(2)
                writeBlob(checkpoint.encoded())
            }
        case .ack(let sequence, let executed, let echo):
            writeU64(sequence)
            writeU64(executed)
            writeU64(echo)
        case .joinWithDisks(let reports):
            writeU32(UInt32(reports.count))
            for report in reports {
                writeBlob(report.instance)
                writeU64(report.generation)
                writeU64(report.sectorCount)
                writeU64(report.extentSectors)
                bytes.append(report.state.rawValue)
                bytes.append(report.historyTrusted ? 1 : 0)
                bytes.append(report.wantsFull ? 1 : 0)
                writeBlob(report.written)
            }
        case .diskPlan(let generation, let disks):
            writeU64(generation)
            writeU32(UInt32(disks.count))
            for plan in disks {
                writeBlob(plan.instance)
                bytes.append(plan.full ? 1 : 0)
                writeU64(plan.extents)
            }
        case .diskExtent(let disk, let index, let compressed, let data):
            writeU32(disk)
            writeU64(index)
            bytes.append(compressed ? 1 : 0)
            writeBlob(data)
        case .joinLive:
            break
        case .handover(let lastSequence, let instructionCount):
            writeU64(lastSequence)
            writeU64(instructionCount)
        case .ramPages(let pages, let compressed, let data):
            withUnsafeBytes(of: UInt32(pages.count).littleEndian) { bytes.append(contentsOf: $0) }
            for page in pages { withUnsafeBytes(of: page.littleEndian) { bytes.append(contentsOf: $0) } }
            bytes.append(compressed ? 1 : 0)
            writeBlob(data)
        }
    }

    /// Little-endian reads from a payload; nil when the bytes run out.
    struct PayloadReader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var remaining: Int { bytes.count - offset }

        mutating func readBytes(length: Int) -> [UInt8]? {
            guard length >= 0, length <= remaining else { return nil }
            defer { offset += length }
            return Array(bytes[offset..<(offset + length)])
        }

        mutating func readInteger<T: FixedWidthInteger>(as: T.Type = T.self) -> T? {
            guard MemoryLayout<T>.size <= remaining else { return nil }
            defer { offset += MemoryLayout<T>.size }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
    }

    /// Reads a message of `kind` from the payload; the payload must be used exactly.
    static func read(kind rawKind: UInt8, payload bytes: UnsafeRawBufferPointer) throws(ReplicationError) -> ReplicationMessage {
        var payload = PayloadReader(bytes)
        func u64(_ what: String) throws(ReplicationError) -> UInt64 {
            guard let value = payload.readInteger(as: UInt64.self) else { throw .malformedMessage("truncated \(what)") }
            return value
        }
        func blob(_ what: String, limit: Int = 1 << 22) throws(ReplicationError) -> [UInt8] {
            guard let count = payload.readInteger(as: UInt32.self) else { throw .malformedMessage("truncated length of \(what)") }
            guard count <= limit, let bytes = payload.readBytes(length: Int(count)) else { throw .malformedMessage("truncated or oversized \(what)") }
            return bytes
        }
        func diskCount() throws(ReplicationError) -> Int {
            guard let count = payload.readInteger(as: UInt32.self) else { throw .malformedMessage("truncated disk count") }
            guard count <= UInt32(Machine.maximumDiskCount) else {
                throw .malformedMessage("\(count) disks (a machine has at most \(Machine.maximumDiskCount))")
            }
            return Int(count)
        }
        func text(_ what: String) throws(ReplicationError) -> String {
            let bytes = try blob(what, limit: 4096)
            guard let string = String(validating: bytes, as: UTF8.self) else { throw .malformedMessage("\(what) is not UTF-8") }
            return string
        }
        guard let kind = Kind(rawValue: rawKind) else { throw .malformedMessage("unknown message kind \(rawKind)") }
        let message: ReplicationMessage
        switch kind {
        case .hello:
            message = .hello(Hello(vm: try text("the VM name"), nodeID: try text("the node id"), nonce: try blob("the nonce", limit: 64)))
        case .proof:
            message = .proof(try blob("the proof", limit: 64))
        case .refuse:
            message = .refuse(try text("the reason"))
        case .join:
            message = .join
        case .heartbeat:
            message = .heartbeat(time: try u64("the heartbeat time"))
        case .resume:
            message = .resume(nextSequence: try u64("the next sequence"))
        case .snapshotChunk:
            message = .snapshotChunk(generation: try u64("the generation"), startSequence: try u64("the start sequence"),
                                     offset: try u64("the chunk offset"), total: try u64("the snapshot size"),
                                     bytes: try blob("the snapshot chunk"))
        case .entry:
            let sequence = try u64("the sequence number")
            guard let entryKind = payload.readInteger(as: UInt8.self) else { throw .malformedMessage("truncated entry kind") }
            switch entryKind {
            case 0:
                let record: LogRecord
                do { record = try LogRecord(encoded: try blob("the event")) } catch let error as EventLogError {
                    throw .malformedMessage("bad event: \(error)")
                } catch { throw .malformedMessage("bad event: \(error)") }
                guard case .event(let event) = record else { throw .malformedMessage("an entry holds a record that is not an event") }
                message = .entry(sequence: sequence, .input(event))
            case 1:
                message = .entry(sequence: sequence, .progress(instructionCount: try u64("the progress count")))
            case 2:
                do { message = .entry(sequence: sequence, .checkpoint(try Checkpoint(decoding: try blob("the checkpoint", limit: 1 << 16)))) }
                catch let error as EventLogError { throw .malformedMessage("bad checkpoint: \(error)") }
                catch { throw .malformedMessage("bad checkpoint: \(error)") }
            default:
                throw .malformedMessage("unknown entry kind \(entryKind)")
            }
        case .ack:
            message = .ack(sequence: try u64("the acknowledged sequence"), executedCount: try u64("the executed count"),
                           echo: try u64("the echoed primary time"))
        case .joinWithDisks:
            var reports: [DiskReport] = []
            for _ in 0..<(try diskCount()) {
                let instance = try blob("the disk instance", limit: 64)
                let generation = try u64("the disk generation")
                let sectors = try u64("the disk size")
                let extentSectors = try u64("the extent size")
                guard let rawState = payload.readInteger(as: UInt8.self), let state = DiskRecord.State(rawValue: rawState) else {
                    throw .malformedMessage("truncated or unknown disk state")
                }
                guard let trusted = payload.readInteger(as: UInt8.self), trusted <= 1,
                      let full = payload.readInteger(as: UInt8.self), full <= 1 else {
                    throw .malformedMessage("truncated or unknown disk flags")
                }
                reports.append(DiskReport(instance: instance, generation: generation, sectorCount: sectors, extentSectors: extentSectors,
                                          state: state, historyTrusted: trusted != 0, written: try blob("the written extents"),
                                          wantsFull: full != 0))
            }
            message = .joinWithDisks(reports)
        case .diskPlan:
            let generation = try u64("the generation")
            var plans: [DiskCopyPlan] = []
            for _ in 0..<(try diskCount()) {
                let instance = try blob("the disk instance", limit: 64)
                guard let full = payload.readInteger(as: UInt8.self), full <= 1 else { throw .malformedMessage("truncated or unknown plan flag") }
                plans.append(DiskCopyPlan(instance: instance, full: full != 0, extents: try u64("the extent count")))
            }
            message = .diskPlan(generation: generation, disks: plans)
        case .diskExtent:
            guard let disk = payload.readInteger(as: UInt32.self) else { throw .malformedMessage("truncated disk number") }
            let index = try u64("the extent index")
            guard let compressed = payload.readInteger(as: UInt8.self), compressed <= 1 else { throw .malformedMessage("truncated or unknown extent encoding") }
            message = .diskExtent(disk: disk, index: index, compressed: compressed == 1, bytes: try blob("the extent"))
        case .joinLive:
            message = .joinLive
        case .handover:
            message = .handover(lastSequence: try u64("the last sequence"), instructionCount: try u64("the instruction count"))
        case .ramPages:
            guard let count = payload.readInteger(as: UInt32.self), count <= 4096 else { throw .malformedMessage("truncated or oversized page list") }
            var pages: [UInt32] = []
            for _ in 0..<count {
                guard let page = payload.readInteger(as: UInt32.self) else { throw .malformedMessage("truncated page list") }
                pages.append(page)
            }
            guard let compressed = payload.readInteger(as: UInt8.self), compressed <= 1 else { throw .malformedMessage("truncated or unknown page encoding") }
            message = .ramPages(pages: pages, compressed: compressed == 1, bytes: try blob("the pages"))
        }
        guard payload.remaining == 0 else { throw .malformedMessage("\(payload.remaining) stray bytes after a \(kind) message") }
        return message
    }
}
