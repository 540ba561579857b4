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

    /// The checkpoint as bytes (the same encoding in the event log and on the replication wire).
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
        return w.bytes
    }

    /// Reads what ``encoded()`` wrote; every count is checked against what remains.
    public init(decoding bytes: [UInt8]) throws(EventLogError) {
        var r = ByteReader(bytes)
        self = try Checkpoint.decode(&r)
        guard r.offset == bytes.count else { throw .malformed(offset: r.offset, what: "\(bytes.count - r.offset) bytes after a checkpoint") }
    }

    static func decode(_ r: inout ByteReader) throws(EventLogError) -> Checkpoint {
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
        return Checkpoint(state: StateDigest(instructionCount: count, parts: parts, regionSize: regionSize, ramBase: ramBase, regions: regions),
                          outputs: outputs)
    }
}
