import Machine

/// What the live runner puts into its journal at regular instruction counts and at every go-live
/// point: the machine's state digest and the digest of every output so far. A follower (a replay,
/// a backup) that reaches the same count compares both, and stops with a ``Divergence`` naming
/// what differs instead of drifting silently.
public struct Checkpoint: Equatable, Sendable {
    public var state: StateDigest
    public var outputs: OutputDigest

    public init(state: StateDigest, outputs: OutputDigest) {
        self.state = state
        self.outputs = outputs
    }

    public var instructionCount: UInt64 { state.instructionCount }

    /// The checkpoint as bytes (the same encoding in the event log, format 5, and on the
    /// replication wire, protocol 3): u64 instruction count, u32 part count and each part (string
    /// name, u64 digest), u64 RAM region size, u64 RAM base, u32 region count and a u64 digest per
    /// region, u64 output count, u64 output bytes, u64 output digest, then the disk part: u8 0
    /// when the state digest does not cover the disks (a checkpoint from a log of format 4 or
    /// older), or u8 1, u32 disk count (at most ``Machine/maximumDiskCount``) and a u64 content
    /// digest per disk. Formats 3 and 4 end after the output digest.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u64(state.instructionCount)
        w.u32(UInt32(state.parts.count))
        for part in state.parts {
            w.string(part.name)
            w.u64(part.hash)
        }
        w.u64(state.regionSize)
        w.u64(state.ramBase)
        w.u32(UInt32(state.regions.count))
        for region in state.regions { w.u64(region) }
        w.u64(outputs.outputCount)
        w.u64(outputs.byteCount)
        w.u64(outputs.value)
        if let disks = state.disks {
            w.u8(1)
            w.u32(UInt32(disks.count))
            for disk in disks { w.u64(disk) }
        } else {
            w.u8(0)
        }
        return w.bytes
    }

    /// Reads what ``encoded()`` wrote (the current encoding, with the disk part); every count is
    /// checked against what remains.
    public init(decoding bytes: [UInt8]) throws(EventLogError) {
        var r = ByteReader(bytes)
        self = try Checkpoint.decode(&r)
        guard r.offset == bytes.count else { throw .malformed(offset: r.offset, what: "\(bytes.count - r.offset) bytes after a checkpoint") }
    }

    /// Reads a checkpoint; `withDiskPart` false reads the encoding of event-log formats 3 and 4,
    /// which ends after the output digest (the state digest then does not cover the disks).
    static func decode(_ r: inout ByteReader, withDiskPart: Bool = true) throws(EventLogError) -> Checkpoint {
        let count = try r.u64("a checkpoint's instruction count")
        let partCount = try r.u32("a checkpoint's part count")
        guard partCount <= 64 else { throw .malformed(offset: r.offset - 4, what: "\(partCount) state parts in a checkpoint (at most 64)") }
        var parts: [StateDigest.Part] = []
        for _ in 0..<partCount {
            parts.append(.init(name: try r.string("a state part's name"), hash: try r.u64("a state part's hash")))
        }
        let regionSize = try r.u64("a checkpoint's RAM region size")
        let ramBase = try r.u64("a checkpoint's RAM base")
        let regionCount = try r.u32("a checkpoint's RAM region count")
        guard regionCount <= StateDigest.maximumRegions else {
            throw .malformed(offset: r.offset - 4, what: "\(regionCount) RAM regions in a checkpoint (at most \(StateDigest.maximumRegions))")
        }
        var regions: [UInt64] = []
        for _ in 0..<regionCount { regions.append(try r.u64("a RAM region's digest")) }
        let outputs = OutputDigest(outputCount: try r.u64("the output count"), byteCount: try r.u64("the output bytes"),
                                   value: try r.u64("the output digest"))
        var disks: [UInt64]?
        if withDiskPart {
            let flagOffset = r.offset
            switch try r.u8("a checkpoint's disk part flag") {
            case 0:
                break
            case 1:
                let countOffset = r.offset
                let diskCount = try r.u32("a checkpoint's disk count")
                guard diskCount <= UInt32(Machine.maximumDiskCount) else {
                    throw .malformed(offset: countOffset, what: "\(diskCount) disks in a checkpoint (a machine has at most \(Machine.maximumDiskCount))")
                }
                var digests: [UInt64] = []
                for _ in 0..<diskCount { digests.append(try r.u64("a disk's content digest")) }
                disks = digests
            case let other:
                throw .malformed(offset: flagOffset, what: "a checkpoint's disk part flag is \(other) (0 or 1)")
            }
        }
        return Checkpoint(state: StateDigest(instructionCount: count, parts: parts, regionSize: regionSize, ramBase: ramBase,
                                             regions: regions, disks: disks),
                          outputs: outputs)
    }
}
