import Machine

/// What a node keeps beside a replicated VM's disk image (in `IMAGE.lockstep`), as DRBD keeps
/// generation identifiers and a quick-sync bitmap: whose disk it is, which generation of the VM
/// its contents belong to, and, per recent generation, which extents were written in it.
///
/// Two copies of a VM's disk evolve by executing the same instructions, so a copy that stopped
/// differs from a live one only in the extents written since the generation it stopped in: by
/// itself in that generation (a primary may have written what its backup never executed), and by
/// the live copy in that generation and every later one. ``writes(since:)`` answers the second
/// part; a returning node reports the first. See docs/disks.md.
public struct DiskRecord: Equatable, Sendable {
    /// What a disk is doing besides serving its VM.
    public enum State: UInt8, Sendable {
        /// Its contents are a state of the VM at its generation.
        case consistent = 0
        /// A resync into it was interrupted: its contents are a mix; the next resync must cover
        /// its own written extents again (which the record holds) ...
        case partialResync = 1
        /// ... or everything (a full resync was interrupted).
        case fullResync = 2
    }

    /// One generation's written extents.
    public struct Generation: Equatable, Sendable {
        public var generation: UInt64
        public var written: ExtentSet
    }

    /// Sectors per extent: 256 KiB.
    public static let defaultExtentSectors: UInt64 = 512
    /// Generations kept; a node that returns from an older one needs a full resync.
    public static let historyLimit = 32

    /// The VM's name.
    public var vm: String
    /// Random bytes drawn when the VM first started on this lineage of disks (copied by a full
    /// resync): two disks of the same VM name but different instances were never copies.
    public var instance: [UInt8]
    public var sectorCount: UInt64
    public var extentSectors: UInt64
    /// The generation the contents belong to (the last one this node ran in).
    public var generation: UInt64
    public var state: State
    /// False after the host went down while the disk was in use (the written extents recorded
    /// then may be incomplete: they are written to the page cache, made durable at each guest
    /// flush and at a clean stop). A disk without a trusted history cannot be resynced quickly,
    /// and cannot be the source of a quick resync for another.
    public var historyTrusted: Bool
    /// Recent generations, oldest first; the last is `generation`'s.
    public var history: [Generation]
    /// The host's boot identifier when the disk was last opened.
    public var bootID: String
    /// Whether the node that used the disk last stopped cleanly.
    public var clean: Bool

    /// A record for a VM that starts on this disk at `generation`.
    public init(vm: String, instance: [UInt8], sectorCount: UInt64, generation: UInt64,
                extentSectors: UInt64 = DiskRecord.defaultExtentSectors, bootID: String) {
        self.vm = vm
        self.instance = instance
        self.sectorCount = sectorCount
        self.extentSectors = extentSectors
        self.generation = generation
        state = .consistent
        historyTrusted = true
        history = []
        self.bootID = bootID
        clean = false
        history = [Generation(generation: generation, written: ExtentSet(extentCount: extentCount))]
    }

    /// Extents on the disk (the last one may be short).
    public var extentCount: Int { Int((sectorCount + extentSectors - 1) / extentSectors) }

    /// The extents holding sectors `sector..<sector + count`.
    public func extents(sector: UInt64, count: Int) -> ClosedRange<Int> {
        let first = Int(sector / extentSectors)
        let last = Int((sector + UInt64(max(count, 1)) - 1) / extentSectors)
        return first...last
    }

    /// Records that extent `index` is written in the current generation; true if that is new.
    public mutating func markWritten(_ index: Int) -> Bool {
        history[history.count - 1].written.insert(index)
    }

    /// The extents written in the current generation.
    public var currentWrites: ExtentSet { history[history.count - 1].written }

    /// The VM moved on to `newGeneration` with this disk (a claim this node won, or a cold
    /// start): writes from now on are recorded under it.
    public mutating func beginGeneration(_ newGeneration: UInt64) {
        precondition(newGeneration > generation, "generations only grow")
        generation = newGeneration
        history.append(Generation(generation: newGeneration, written: ExtentSet(extentCount: extentCount)))
        if history.count > DiskRecord.historyLimit { history.removeFirst(history.count - DiskRecord.historyLimit) }
    }

    /// Every extent this disk wrote from the start of generation `generation` on, or nil if
    /// the record cannot say (the history does not reach back so far, or is not trusted).
    public func writes(since generation: UInt64) -> ExtentSet? {
        guard historyTrusted, let first = history.first, first.generation <= generation else { return nil }
        // Generations this node did not run in (it was away) wrote nothing on this disk, but a
        // gap means the disk was not in use then; the entries present cover what it wrote.
        var union = ExtentSet(extentCount: extentCount)
        for entry in history where entry.generation >= generation { union.formUnion(entry.written) }
        return union
    }

    /// After a resync made this disk a copy of a primary's at `generation`: the history starts
    /// over there, empty (the primary's history covers what came before).
    public mutating func adopt(instance: [UInt8], generation: UInt64) {
        self.instance = instance
        self.generation = generation
        state = .consistent
        historyTrusted = true
        history = [Generation(generation: generation, written: ExtentSet(extentCount: extentCount))]
    }

    // MARK: Encoding

    static let magic = Array("LOCKSTEP-DISK-RECORD".utf8)
    static let version: UInt32 = 1

    /// The file's bytes: magic, version, the fields, a CRC-32 of everything before it.
    public var encoded: [UInt8] {
        var out = DiskRecord.magic
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func blob(_ bytes: [UInt8]) { u32(UInt32(bytes.count)); out.append(contentsOf: bytes) }
        u32(DiskRecord.version)
        blob(Array(vm.utf8))
        blob(instance)
        u64(sectorCount)
        u64(extentSectors)
        u64(generation)
        out.append(state.rawValue)
        out.append(historyTrusted ? 1 : 0)
        out.append(clean ? 1 : 0)
        blob(Array(bootID.utf8))
        u32(UInt32(history.count))
        for entry in history {
            u64(entry.generation)
            blob(entry.written.bytes)
        }
        u32(CRC32.checksum(out))
        return out
    }

    /// Reads what ``encoded`` wrote; a typed error says what is wrong.
    public init(decoding bytes: [UInt8]) throws(DiskRecordError) {
        guard bytes.count >= DiskRecord.magic.count + 8, Array(bytes.prefix(DiskRecord.magic.count)) == DiskRecord.magic else {
            throw .malformed("not a Lockstep disk record (no magic)")
        }
        let body = Array(bytes.dropLast(4))
        let stored = bytes.suffix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        guard CRC32.checksum(body) == stored else { throw .malformed("checksum mismatch (a torn or damaged file)") }
        var offset = DiskRecord.magic.count
        func take(_ n: Int) throws(DiskRecordError) -> ArraySlice<UInt8> {
            guard n >= 0, offset + n <= body.count else { throw .malformed("truncated") }
            defer { offset += n }
            return body[offset..<(offset + n)]
        }
        func u32() throws(DiskRecordError) -> UInt32 {
            try take(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        }
        func u64() throws(DiskRecordError) -> UInt64 {
            try take(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        func blob() throws(DiskRecordError) -> [UInt8] { Array(try take(Int(try u32()))) }
        func text() throws(DiskRecordError) -> String {
            guard let string = String(validating: try blob(), as: UTF8.self) else { throw .malformed("a name is not UTF-8") }
            return string
        }
        let version = try u32()
        guard version == DiskRecord.version else { throw .malformed("format version \(version); this build reads version \(DiskRecord.version)") }
        vm = try text()
        instance = try blob()
        sectorCount = try u64()
        extentSectors = try u64()
        guard extentSectors > 0, extentSectors <= 1 << 20 else { throw .malformed("extent size \(extentSectors) sectors") }
        generation = try u64()
        guard let state = State(rawValue: try take(1).first!) else { throw .malformed("unknown state") }
        self.state = state
        historyTrusted = try take(1).first! != 0
        clean = try take(1).first! != 0
        bootID = try text()
        let entries = try u32()
        guard entries >= 1, entries <= UInt32(DiskRecord.historyLimit) else { throw .malformed("\(entries) generations of history") }
        let extents = Int((sectorCount + extentSectors - 1) / extentSectors)
        history = []
        for _ in 0..<entries {
            let generation = try u64()
            guard let written = ExtentSet(extentCount: extents, bytes: try blob()) else { throw .malformed("a bitmap of the wrong size") }
            history.append(Generation(generation: generation, written: written))
        }
        guard offset == body.count else { throw .malformed("\(body.count - offset) bytes after the end") }
        guard history.last?.generation == generation else { throw .malformed("the history does not end at generation \(generation)") }
    }
}

/// A disk record that cannot be used.
public enum DiskRecordError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unreadable(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "the disk record is malformed: \(why)"
        case .unreadable(let why): return "the disk record cannot be read or written: \(why)"
        }
    }
}
