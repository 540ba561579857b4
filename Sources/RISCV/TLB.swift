/// The hart's software TLBs: three direct-mapped caches (data reads, data writes, instruction
/// fetch) from a virtual page to the host address of its bytes in RAM.
///
/// Every access goes through them, with or without paging: in M-mode or with `satp` in Bare mode
/// an entry simply maps a page to itself. A hit costs the executor one compare; a miss takes the
/// slow path, which translates (walking the Sv39 page table if paging is on), performs the access
/// and fills the entry when the page is in RAM.
///
/// Write entries exist only for pages whose ``GuestMemory`` flags are clear, so a store that hits
/// never needs bookkeeping. When flags appear on a page, ``GuestMemory/flagEpoch`` moves and the
/// hart drops its write entries.
@usableFromInline
struct TLBEntry: Sendable {
    /// Virtual page address (low 12 bits zero), or ``invalidTag``.
    @usableFromInline var tag: UInt64
    /// Added to a virtual address in the page, gives the byte's host address (inside RAM's mapping).
    @usableFromInline var hostDelta: UInt64

    /// Never equal to a masked virtual address: its low bits are set.
    @usableFromInline static let invalidTag: UInt64 = ~0
    @usableFromInline static let invalid = TLBEntry(tag: invalidTag, hostDelta: 0)
}

/// The three TLBs, in storage a hart owns (part of its block, see ``Hart/tlbByteOffset``).
@usableFromInline
struct TLB {
    @usableFromInline static let entries = 256
    @usableFromInline static let indexMask: UInt64 = 255

    /// Data-read entries, then data-write entries, then fetch entries.
    @usableFromInline let storage: UnsafeMutablePointer<TLBEntry>

    /// Takes `storage` (room for `3 * entries`, bound to `TLBEntry`, owned by the caller) and
    /// fills it with invalid entries.
    init(storage: UnsafeMutablePointer<TLBEntry>) {
        self.storage = storage
        storage.initialize(repeating: .invalid, count: 3 * TLB.entries)
    }

    @usableFromInline var read: UnsafeMutablePointer<TLBEntry> { storage }
    @usableFromInline var write: UnsafeMutablePointer<TLBEntry> { storage + TLB.entries }
    @usableFromInline var fetch: UnsafeMutablePointer<TLBEntry> { storage + 2 * TLB.entries }

    /// The slot of `address`'s page in one of the three tables.
    @inline(__always) static func index(_ address: UInt64) -> Int {
        Int(truncatingIfNeeded: (address >> 12) & indexMask)
    }

    /// The entries of `address`'s page in the read, write and fetch tables of the hart whose
    /// block starts at `x` (see ``Hart/tlbByteOffset``), for the fast loop. Each is one load at
    /// `x` plus the index plus a constant: no host register holds the TLBs' address.
    @inline(__always) static func readEntry(_ x: UnsafeMutablePointer<UInt64>, _ address: UInt64) -> TLBEntry {
        entry(x, table: 0, address)
    }
    @inline(__always) static func writeEntry(_ x: UnsafeMutablePointer<UInt64>, _ address: UInt64) -> TLBEntry {
        entry(x, table: 1, address)
    }
    @inline(__always) static func fetchEntry(_ x: UnsafeMutablePointer<UInt64>, _ address: UInt64) -> TLBEntry {
        entry(x, table: 2, address)
    }

    /// Sound: the hart's block has `3 * entries` bound `TLBEntry`s at `Hart.tlbByteOffset`, and
    /// the index is masked to one table.
    @inline(__always) private static func entry(_ x: UnsafeMutablePointer<UInt64>, table: Int, _ address: UInt64) -> TLBEntry {
        let stride = MemoryLayout<TLBEntry>.stride
        return UnsafeRawPointer(x).load(fromByteOffset: index(address) * stride + (Hart.tlbByteOffset + table * entries * stride),
                                        as: TLBEntry.self)
    }

    func flushAll() { storage.update(repeating: .invalid, count: 3 * TLB.entries) }
    func flushWrites() { write.update(repeating: .invalid, count: TLB.entries) }
}
