#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The guest's RAM: one contiguous block of host memory plus per-page bookkeeping for the hart.
///
/// RAM lives in this module (not in `Machine`) because the hart's hot loop reads and writes it
/// through raw pointers, and whole-module optimisation must see both together.
///
/// Per 4 KiB page the memory keeps a flags byte. A store whose page has any flag set takes the
/// slow path, which (a) invalidates decoded instructions it overwrites, so self-modifying and
/// freshly loaded code is always re-decoded, and (b) reports writes to watched pages (HTIF
/// `tohost`) to ``watchHandler``, and (c) marks the page dirty when dirty-page tracking is on.
/// Pages with no flags cost a store one byte load and a branch.
///
/// Dirty-page tracking (for incremental snapshots): ``startDirtyTracking()`` gives every page the
/// "clean" flag, so the hart drops its write-TLB entries (they exist only for pages without
/// flags) and the first store to each page takes the slow path once, which clears the flag. A
/// page is dirty while tracking is on and its clean flag is clear. Nothing changes for the fast
/// store path: with tracking off no page carries the flag.
public final class GuestMemory {
    public static let pageSize: UInt64 = 4096
    /// Decoded-instruction slots per page: one per 2-byte parcel.
    static let slotsPerPage = Int(pageSize / 2)

    static let flagCode: UInt8 = 1
    static let flagWatch: UInt8 = 2
    /// Not written since ``startDirtyTracking()`` (set only while tracking is on).
    static let flagClean: UInt8 = 4
    /// Never written since the memory was created, so all zero. Costs one slow-path store per
    /// page over the machine's life (the first), which the host's own page fault on first touch
    /// dwarfs; in exchange hashing and snapshots skip such pages without reading them (reading
    /// an untouched page would make the host map it).
    static let flagUntouched: UInt8 = 8

    /// Guest-physical address of the first byte of RAM.
    public let base: UInt64
    /// RAM size in bytes (a multiple of the page size).
    public let size: UInt64
    /// Host memory backing RAM. Sound to access for `size` bytes while `self` lives.
    @usableFromInline let bytes: UnsafeMutableRawPointer
    @usableFromInline let pageFlags: UnsafeMutablePointer<UInt8>
    @usableFromInline let decodedPages: UnsafeMutablePointer<UnsafeMutablePointer<DecodedInstruction>?>
    /// Number of 4 KiB pages of RAM.
    public let pageCount: Int
    /// Per page: a version that moves when translated bytes of the page change (see
    /// ``codeVersion(page:)``).
    let codeVersions: UnsafeMutablePointer<UInt32>
    /// Per page: the range of page offsets translated since the version last moved, packed as
    /// `low | high << 16` (empty: low 0xFFFF, high 0).
    let translatedRanges: UnsafeMutablePointer<UInt32>
    static let noTranslatedRange: UInt32 = 0xFFFF
    /// Moves with every code version (see ``codeGeneration``); in its own allocation so that
    /// generated code can read it. Sound to access while `self` lives.
    let codeGenerationCell: UnsafeMutablePointer<UInt64>
    var codeGenerationCounter: UInt64 { codeGenerationCell.pointee }
    /// Counts stores into code pages, to retire the pages that became data.
    let codePageStores: CodePageStores
    /// Moves whenever a page gains a flag, so that holders of write-TLB entries (which are only
    /// made for flag-free pages) know to drop them.
    public private(set) var flagEpoch: UInt64 = 0
    /// Watched 8-byte words (guest-physical addresses), e.g. HTIF `tohost`.
    var watchedAddresses: Set<UInt64> = []
    /// Called after a store touched a watched word, with the watched word's address.
    public var watchHandler: ((UInt64) -> Void)?
    /// Whether dirty pages are being tracked (since the last ``startDirtyTracking()``).
    public private(set) var isTrackingDirtyPages = false
    /// Counts calls of ``startDirtyTracking()``, so that an owner can tell whether tracking was
    /// restarted behind its back.
    public private(set) var dirtyTrackingGeneration: UInt64 = 0

    /// Creates zero-filled RAM of `size` bytes (rounded up to whole pages) at `base`;
    /// nil if the host cannot reserve that much address space.
    public init?(base: UInt64, size: UInt64) {
        precondition(size > 0 && base % GuestMemory.pageSize == 0)
        let rounded = (size + GuestMemory.pageSize - 1) & ~(GuestMemory.pageSize - 1)
        self.base = base
        self.size = rounded
        pageCount = Int(rounded / GuestMemory.pageSize)
        // Anonymous mappings are zero-filled by the kernel on first touch, so a large guest costs
        // only the pages it uses.
        guard let mapping = mmap(nil, Int(rounded), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapping != MAP_FAILED else {
            return nil
        }
        bytes = mapping
        pageFlags = .allocate(capacity: pageCount)
        pageFlags.initialize(repeating: GuestMemory.flagUntouched, count: pageCount)
        decodedPages = .allocate(capacity: pageCount)
        decodedPages.initialize(repeating: nil, count: pageCount)
        codeVersions = .allocate(capacity: pageCount)
        codeVersions.initialize(repeating: 0, count: pageCount)
        translatedRanges = .allocate(capacity: pageCount)
        translatedRanges.initialize(repeating: GuestMemory.noTranslatedRange, count: pageCount)
        codeGenerationCell = .allocate(capacity: 1)
        codeGenerationCell.initialize(to: 0)
        codePageStores = CodePageStores(pageCount: pageCount)
    }

    /// Slots allocated per code page: one per parcel, then two `.refetch` sentinels that the
    /// executor reaches when execution runs off the end of the page (after a 2- or 4-byte
    /// instruction at its end), so that sequential execution needs no page-boundary check.
    static let allocatedSlotsPerPage = slotsPerPage + 2

    /// A page of `.refetch` slots the executor points at when it has no valid code page, so that
    /// the next fetch looks the page up again (the executor may step a few slots past it before
    /// it looks: the page is as large as a code page). Never written.
    @usableFromInline let refetchSlots: UnsafeMutablePointer<DecodedInstruction> = {
        let slots = UnsafeMutablePointer<DecodedInstruction>.allocate(capacity: GuestMemory.allocatedSlotsPerPage)
        slots.initialize(repeating: DecodedInstruction(op: .refetch), count: GuestMemory.allocatedSlotsPerPage)
        return slots
    }()

    deinit {
        refetchSlots.deallocate()
        for i in 0..<pageCount { decodedPages[i]?.deallocate() }
        decodedPages.deallocate()
        codeVersions.deallocate()
        translatedRanges.deallocate()
        codeGenerationCell.deallocate()
        pageFlags.deallocate()
        munmap(bytes, Int(size))
    }

    /// Whether `count` bytes at guest-physical `address` lie inside RAM.
    @inlinable public func contains(_ address: UInt64, count: UInt64) -> Bool {
        let offset = address &- base
        return offset < size && size - offset >= count
    }

    /// Copies bytes into RAM (for loaders and devices), invalidating decoded code they overwrite.
    /// The range must lie inside RAM (check with ``contains(_:count:)``).
    public func write<C: Collection>(_ data: C, at address: UInt64) where C.Element == UInt8 {
        precondition(contains(address, count: UInt64(data.count)), "write outside RAM")
        let offset = Int(address - base)
        let copied: Void? = data.withContiguousStorageIfAvailable { source in
            if let start = source.baseAddress { (bytes + offset).copyMemory(from: start, byteCount: source.count) }
        }
        if copied == nil {
            var i = offset
            for byte in data { bytes.storeBytes(of: byte, toByteOffset: i, as: UInt8.self); i += 1 }
        }
        noteBulkWrite(offset: UInt64(offset), count: UInt64(data.count))
    }

    /// Calls `body` with all of RAM as read-only bytes (for hashing and snapshots).
    public func withRAMBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: bytes, count: Int(size)))
    }

    /// Copies bytes out of RAM. The range must lie inside RAM.
    public func read(at address: UInt64, count: Int) -> [UInt8] {
        precondition(contains(address, count: UInt64(count)), "read outside RAM")
        let start = bytes + Int(address - base)
        return Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// Zero-fills a range of RAM.
    public func zero(at address: UInt64, count: Int) {
        precondition(contains(address, count: UInt64(count)), "zero outside RAM")
        (bytes + Int(address - base)).initializeMemory(as: UInt8.self, repeating: 0, count: count)
        noteBulkWrite(offset: address - base, count: UInt64(count))
    }

    /// Reads a little-endian value of `size` bytes at a RAM offset (slow path helper).
    func loadValue(offset: UInt64, size: Int) -> UInt64 {
        switch size {
        case 1: return UInt64(bytes.load(fromByteOffset: Int(offset), as: UInt8.self))
        case 2: return UInt64(bytes.loadUnaligned(fromByteOffset: Int(offset), as: UInt16.self))
        case 4: return UInt64(bytes.loadUnaligned(fromByteOffset: Int(offset), as: UInt32.self))
        default: return bytes.loadUnaligned(fromByteOffset: Int(offset), as: UInt64.self)
        }
    }

    /// Stores a little-endian value and performs the page-flag duties (slow path helper).
    /// Returns whether a watched word was touched (its handler has run).
    @discardableResult
    func storeValue(offset: UInt64, size: Int, value: UInt64) -> Bool {
        switch size {
        case 1: bytes.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: Int(offset), as: UInt8.self)
        case 2: bytes.storeBytes(of: UInt16(truncatingIfNeeded: value), toByteOffset: Int(offset), as: UInt16.self)
        case 4: bytes.storeBytes(of: UInt32(truncatingIfNeeded: value), toByteOffset: Int(offset), as: UInt32.self)
        default: bytes.storeBytes(of: value, toByteOffset: Int(offset), as: UInt64.self)
        }
        return noteStore(offset: offset, count: UInt64(size))
    }

    /// Bookkeeping after a store into pages that may carry flags; returns whether a watched word was touched.
    func noteStore(offset: UInt64, count: UInt64) -> Bool {
        let first = Int(offset / GuestMemory.pageSize)
        let last = Int((offset + count - 1) / GuestMemory.pageSize)
        var watched = false
        for page in first...last {
            let flags = pageFlags[page]
            if flags & (GuestMemory.flagClean | GuestMemory.flagUntouched) != 0 {
                pageFlags[page] = flags & ~(GuestMemory.flagClean | GuestMemory.flagUntouched)
            }
            if flags & GuestMemory.flagCode != 0 {
                invalidateSlots(page: page, offset: offset, count: count)
                if codePageStores.noteStore(page: page) { retireCode(page: page) }
            }
            if flags & GuestMemory.flagWatch != 0 { watched = true }
        }
        guard watched, let handler = watchHandler else { return false }
        let address = base + offset
        var touched = false
        for word in watchedAddresses where word < address + count && address < word + 8 {
            touched = true
            handler(word)
        }
        return touched
    }

    /// Forgets decoded instructions overlapping a RAM range.
    public func invalidateDecoded(offset: UInt64, count: UInt64) {
        guard count > 0 else { return }
        let first = Int(offset / GuestMemory.pageSize)
        let last = Int((offset + count - 1) / GuestMemory.pageSize)
        for page in first...last where pageFlags[page] & GuestMemory.flagCode != 0 {
            invalidateSlots(page: page, offset: offset, count: count)
        }
    }

    /// Bookkeeping after a host-side write (loaders, DMA, restores): marks the pages dirty and
    /// forgets decoded instructions overlapping the range.
    private func noteBulkWrite(offset: UInt64, count: UInt64) {
        guard count > 0 else { return }
        let first = Int(offset / GuestMemory.pageSize)
        let last = Int((offset + count - 1) / GuestMemory.pageSize)
        for page in first...last where pageFlags[page] != 0 {
            pageFlags[page] &= ~(GuestMemory.flagClean | GuestMemory.flagUntouched)
            if pageFlags[page] & GuestMemory.flagCode != 0 { invalidateSlots(page: page, offset: offset, count: count) }
        }
    }

    /// Clears the slots of `page` whose instruction may overlap [offset, offset+count).
    /// A slot covers at most 8 bytes (a fused pair of two 4-byte instructions, see `Fusion`), so a
    /// slot starting up to 6 bytes before the range can overlap it. Slots never depend on the next
    /// page: an instruction straddling a page boundary is not cached, and pairs never straddle.
    private func invalidateSlots(page: Int, offset: UInt64, count: UInt64) {
        let pageStart = UInt64(page) * GuestMemory.pageSize
        let translated = translatedRanges[page]
        if UInt64(translated & 0xFFFF) < offset &+ count &- pageStart && offset < pageStart &+ UInt64(translated >> 16) {
            invalidateTranslations(page: page)
        }
        guard let slots = decodedPages[page] else { return }
        let lo = max(Int64(offset) - 6, Int64(pageStart)) - Int64(pageStart)
        let hi = min(offset + count, pageStart + GuestMemory.pageSize) - pageStart
        var slot = Int(lo) >> 1
        let end = Int(hi + 1) >> 1
        while slot < end && slot < GuestMemory.slotsPerPage {
            slots[slot].op = .undecoded
            slot += 1
        }
    }

    /// Drops every decoded instruction (after bulk changes such as a restore).
    public func invalidateAllDecoded() {
        for page in 0..<pageCount where translatedRanges[page] != GuestMemory.noTranslatedRange {
            invalidateTranslations(page: page)
        }
        for page in 0..<pageCount where decodedPages[page] != nil {
            decodedPages[page]!.update(repeating: DecodedInstruction(op: .undecoded), count: GuestMemory.slotsPerPage)
        }
    }

    /// Makes every translation of `page` stale (its code version moves).
    private func invalidateTranslations(page: Int) {
        codeVersions[page] &+= 1
        translatedRanges[page] = GuestMemory.noTranslatedRange
        codeGenerationCell.pointee &+= 1
    }

    /// The decoded-instruction slots of a RAM page, created (empty) on first use.
    @usableFromInline
    func decodedSlots(page: Int) -> UnsafeMutablePointer<DecodedInstruction> {
        if let slots = decodedPages[page] { return slots }
        let slots: UnsafeMutablePointer<DecodedInstruction>
        if let spare = codePageStores.spareSlots[page] {
            // A retired page holds code again: its slots come back (all `.refetch` since).
            codePageStores.spareSlots[page] = nil
            spare.update(repeating: DecodedInstruction(op: .undecoded), count: GuestMemory.slotsPerPage)
            slots = spare
        } else {
            slots = .allocate(capacity: GuestMemory.allocatedSlotsPerPage)
            slots.initialize(repeating: DecodedInstruction(op: .undecoded), count: GuestMemory.slotsPerPage)
            (slots + GuestMemory.slotsPerPage).initialize(repeating: DecodedInstruction(op: .refetch), count: 2)
        }
        decodedPages[page] = slots
        pageFlags[page] |= GuestMemory.flagCode
        flagEpoch &+= 1
        return slots
    }

    /// Makes code page `page` a data page again (see ``CodePageStores``): its decoded
    /// instructions and translations are forgotten and its stores take the fast path again.
    ///
    /// The executor may be running the page's slots right now (code storing into its own page):
    /// every slot becomes `.refetch`, which makes it look the page up, find no slots and come
    /// back through ``decodedSlots(page:)``, which flags the page again and hands the same slots
    /// back, so no pointer into them ever dangles or serves another page.
    func retireCode(page: Int) {
        guard let slots = decodedPages[page] else { return }
        slots.update(repeating: DecodedInstruction(op: .refetch), count: GuestMemory.slotsPerPage)
        codePageStores.spareSlots[page] = slots
        decodedPages[page] = nil
        pageFlags[page] &= ~GuestMemory.flagCode
        if translatedRanges[page] != GuestMemory.noTranslatedRange { invalidateTranslations(page: page) }
        codePageStores.noteRetired(page: page)
    }

    /// Asks for ``watchHandler`` to be called after any store that touches the 8-byte word at `address`.
    public func watch(_ address: UInt64) {
        precondition(contains(address, count: 8), "watched word outside RAM")
        watchedAddresses.insert(address)
        pageFlags[Int((address - base) / GuestMemory.pageSize)] |= GuestMemory.flagWatch
        flagEpoch &+= 1
    }

    /// Stops reporting stores to every watched word (a restored machine re-installs its own).
    public func removeAllWatches() {
        for address in watchedAddresses { pageFlags[Int((address - base) / GuestMemory.pageSize)] &= ~GuestMemory.flagWatch }
        watchedAddresses = []
    }

    // MARK: Dirty pages

    /// Starts (or restarts) dirty-page tracking: from now on every page written by the guest or
    /// by the host (``write(_:at:)``, ``zero(at:count:)``, ``store64(_:at:)``, page-table A/D
    /// updates) is reported in ``dirtyPages``.
    ///
    /// Call it between runs of the hart, not from a device callback while it executes: the hart
    /// drops its write-TLB entries (the flag epoch moves) when it next starts running.
    public func startDirtyTracking() {
        for page in 0..<pageCount { pageFlags[page] |= GuestMemory.flagClean }
        isTrackingDirtyPages = true
        dirtyTrackingGeneration &+= 1
        flagEpoch &+= 1   // write-TLB entries must go: the pages now carry a flag
    }

    /// Stops dirty-page tracking; stores go back to the fast path once the hart refills its TLB.
    public func stopDirtyTracking() {
        for page in 0..<pageCount { pageFlags[page] &= ~GuestMemory.flagClean }
        isTrackingDirtyPages = false
        // No epoch move needed: removing a flag never invalidates a write-TLB entry.
    }

    /// Whether page `index` (RAM offset `index * 4096`) was written since tracking started; false
    /// while tracking is off.
    public func isPageDirty(_ index: Int) -> Bool {
        precondition(index >= 0 && index < pageCount, "page index outside RAM")
        return isTrackingDirtyPages && pageFlags[index] & GuestMemory.flagClean == 0
    }

    /// Indices of the pages written since ``startDirtyTracking()``, ascending (page `i` is RAM
    /// offset `i * 4096`); nil while tracking is off.
    public var dirtyPages: [Int]? {
        guard isTrackingDirtyPages else { return nil }
        var pages: [Int] = []
        for page in 0..<pageCount where pageFlags[page] & GuestMemory.flagClean == 0 { pages.append(page) }
        return pages
    }

    /// Whether page `index` (RAM offset `index * 4096`) has never been written since the memory
    /// was created, by the guest or the host, and so is all zero without reading it. A false
    /// answer says nothing: the page may still be zero.
    public func isUntouched(page index: Int) -> Bool {
        precondition(index >= 0 && index < pageCount, "page index outside RAM")
        return pageFlags[index] & GuestMemory.flagUntouched != 0
    }

    /// Reads a little-endian 64-bit word from RAM.
    public func load64(at address: UInt64) -> UInt64 {
        precondition(contains(address, count: 8))
        return loadValue(offset: address - base, size: 8)
    }

    /// Writes a little-endian 64-bit word to RAM, invalidating decoded code it overwrites. Writing a
    /// watched word calls ``watchHandler``, as a guest store would.
    public func store64(_ value: UInt64, at address: UInt64) {
        precondition(contains(address, count: 8))
        storeValue(offset: address - base, size: 8, value: value)
    }
}
