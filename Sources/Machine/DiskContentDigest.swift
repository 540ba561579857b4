/// A 64-bit digest of a disk's whole contents, kept up to date as the guest writes, so that the
/// state hash and a snapshot's disk identity cover the disk without reading it again.
///
/// The disk is cut into 4 KiB chunks; each chunk has a hash (``StateHasher`` over its bytes), and
/// the digest is the wrapping sum over all chunks of `term(index, hash) - term(index, 0)`, so a
/// write updates it in time proportional to the chunks it touches: subtract the old terms, add
/// the new ones. Not
/// cryptographic: it detects accidents (a copy that differs from its peer), not adversaries.
///
/// The first value costs a read of the whole medium; it is computed when first asked for
/// (``value(of:)``) or ahead of time (``prepare(_:)``), and writes before that need no
/// bookkeeping, because the first computation reads the contents as they are then.
public struct DiskContentDigest {
    /// Bytes per chunk.
    public static let chunkBytes = 4096
    static let sectorsPerChunk = UInt64(chunkBytes / 512)
    /// Chunks read per storage call while scanning.
    static let scanChunks: UInt64 = 64

    private var chunkHashes: [UInt64] = []
    private var total: UInt64 = 0
    private var ready = false

    public init() {}

    /// Whether the first full read has been done.
    public var isReady: Bool { ready }

    /// The digest of the medium's current contents (reads it all the first time).
    public mutating func value(of storage: any BlockStorage) throws(BlockStorageError) -> UInt64 {
        try prepare(storage)
        return total
    }

    /// Reads the whole medium and computes every chunk's hash, unless that is done already.
    public mutating func prepare(_ storage: any BlockStorage) throws(BlockStorageError) {
        guard !ready else { return }
        let sectors = storage.sectorCount
        let chunks = Int((sectors + DiskContentDigest.sectorsPerChunk - 1) / DiskContentDigest.sectorsPerChunk)
        chunkHashes = [UInt64](repeating: 0, count: chunks)
        total = 0
        var chunk = 0
        while chunk < chunks {
            let count = min(Int(DiskContentDigest.scanChunks), chunks - chunk)
            try rehash(storage, chunks: chunk..<(chunk + count))
            chunk += count
        }
        ready = true
    }

    /// Brings the digest up to date after sectors `sector..<sector + count` were written.
    public mutating func noteWritten(_ storage: any BlockStorage, sector: UInt64, count: Int) throws(BlockStorageError) {
        guard ready, count > 0 else { return }
        let first = Int(sector / DiskContentDigest.sectorsPerChunk)
        let last = Int((sector + UInt64(count) - 1) / DiskContentDigest.sectorsPerChunk)
        try rehash(storage, chunks: first..<(last + 1))
    }

    /// Forgets everything (after the medium changed under the machine, e.g. a resync): the next
    /// ``value(of:)`` reads it all again.
    public mutating func invalidate() {
        ready = false
        chunkHashes = []
        total = 0
    }

    /// Reads `chunks` (clipped to the medium) and replaces their terms in the sum.
    private mutating func rehash(_ storage: any BlockStorage, chunks: Range<Int>) throws(BlockStorageError) {
        let perChunk = DiskContentDigest.sectorsPerChunk
        let firstSector = UInt64(chunks.lowerBound) * perChunk
        let endSector = min(UInt64(chunks.upperBound) * perChunk, storage.sectorCount)
        guard endSector > firstSector else { return }
        let data = try storage.readSectors(at: firstSector, count: Int(endSector - firstSector))
        data.withUnsafeBytes { bytes in
            for chunk in chunks {
                let start = (chunk - chunks.lowerBound) * DiskContentDigest.chunkBytes
                guard start < bytes.count else { break }
                let end = min(start + DiskContentDigest.chunkBytes, bytes.count)
                var hasher = StateHasher()
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                let hash = hasher.finalize()
                total &-= DiskContentDigest.term(chunk, chunkHashes[chunk])
                chunkHashes[chunk] = hash
                total &+= DiskContentDigest.term(chunk, hash)
            }
        }
    }

    /// A chunk's contribution: its index and hash mixed, so that equal chunks at different
    /// places do not cancel. The terms of a fresh array (all zero hashes) are subtracted and
    /// added like any other, so the sum is exact whatever order chunks are hashed in.
    @inline(__always) static func term(_ chunk: Int, _ hash: UInt64) -> UInt64 {
        StateHasher.mix(StateHasher.mix(UInt64(chunk) &+ 0x632B_E59B_D9B4_E019) ^ hash)
    }
}
