import RISCV

extension Machine {
    /// A 64-bit digest of the machine's state, for detecting divergence between two runs that
    /// should be identical (a recording and its replay, a primary and its backup, a machine and
    /// its restored snapshot).
    ///
    /// Covers everything a snapshot holds except the disks: the hart (instruction count, pc,
    /// privilege, every CSR, the register files, reservation, timer), every device (CLINT, PLIC,
    /// UART, the virtio transports with their queues and devices, HTIF, whether SBI is served), in
    /// their snapshot serialization, then RAM page by page (see ``StateHasher/combine(ram:)``:
    /// each non-zero 4 KiB page with its index; all-zero pages only through their absence, so a
    /// mostly empty RAM hashes at memory speed). Not cryptographic: it detects
    /// accidents, not adversaries. With disks, their content digests come last, in order
    /// (``DiskContentDigest``: kept up to date as the guest writes; the first hash of a machine
    /// reads each whole medium once). A disk that cannot be read hashes as its error's absence of
    /// a digest (a fixed value), which a healthy peer's hash will not match.
    public func stateHash() -> UInt64 {
        var hasher = StateHasher()
        machineStateBytes().withUnsafeBytes { hasher.combine(bytes: $0) }
        for disk in disks { hasher.combine(disk.stateDigestValue) }
        memory.withRAMBytes { hasher.combine(ram: $0, untouched: memory.isUntouched(page:)) }
        return hasher.finalize()
    }
}

/// A fast 64-bit hash over words (multiply-xorshift mixing, one 8-byte word at a time).
public struct StateHasher: Sendable {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var length: UInt64 = 0

    public init() {}

    @inline(__always) static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func combine(_ value: UInt64) {
        state = StateHasher.mix(state ^ value) &+ 0x9E37_79B9_7F4A_7C15
        length &+= 8
    }

    /// Adds bytes (a multiple of 8 is fastest; any tail is zero-padded and the length counts).
    public mutating func combine(bytes: UnsafeRawBufferPointer) {
        let words = bytes.count / 8
        var h = state
        var i = 0
        while i < words {
            h = StateHasher.mix(h ^ bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &+ 0x9E37_79B9_7F4A_7C15
            i += 1
        }
        var tail: UInt64 = 0
        for j in (words * 8)..<bytes.count { tail |= UInt64(bytes[j]) << (8 * UInt64(j - words * 8)) }
        if bytes.count % 8 != 0 { h = StateHasher.mix(h ^ tail) &+ 0x9E37_79B9_7F4A_7C15 }
        state = h
        length &+= UInt64(bytes.count)
    }

    /// Adds RAM as a sequence of 4 KiB pages: for each page that is not all zero, its index and
    /// the hash of its 512 words; zero pages add nothing (their absence is what identifies them).
    /// The words of a page are hashed in four independent lanes so that the multiplies of one
    /// lane overlap with the others' (a single chain is latency-bound at about 2 GB/s).
    public mutating func combine(ram: UnsafeRawBufferPointer, untouched: (Int) -> Bool = { _ in false }) {
        let pageSize = 4096
        let pages = ram.count / pageSize
        for page in 0..<pages where !untouched(page) {
            let base = page * pageSize
            var any: UInt64 = 0
            var offset = 0
            while offset < pageSize {
                any |= ram.loadUnaligned(fromByteOffset: base + offset, as: UInt64.self)
                offset += 8
            }
            if any == 0 { continue }
            combine(UInt64(page))
            var lanes: (UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4)
            offset = 0
            while offset < pageSize {
                lanes.0 = StateHasher.mix(lanes.0 ^ ram.loadUnaligned(fromByteOffset: base + offset, as: UInt64.self))
                lanes.1 = StateHasher.mix(lanes.1 ^ ram.loadUnaligned(fromByteOffset: base + offset + 8, as: UInt64.self))
                lanes.2 = StateHasher.mix(lanes.2 ^ ram.loadUnaligned(fromByteOffset: base + offset + 16, as: UInt64.self))
                lanes.3 = StateHasher.mix(lanes.3 ^ ram.loadUnaligned(fromByteOffset: base + offset + 24, as: UInt64.self))
                offset += 32
            }
            combine(lanes.0)
            combine(lanes.1)
            combine(lanes.2)
            combine(lanes.3)
        }
        let tail = UnsafeRawBufferPointer(rebasing: ram[(pages * pageSize)...])
        if !tail.isEmpty { combine(bytes: tail) }
    }

    public func finalize() -> UInt64 { StateHasher.mix(state ^ length) }
}
