/// Stores into pages that hold decoded code, counted so that a page that has become data stops
/// being a code page (see ``GuestMemory/retireCode(page:)``).
///
/// A code page's stores all take the slow path, which forgets the decoded instructions and
/// translations they touch. That is right for code that changes, and costly for a page that no
/// longer holds code: Linux frees its init code after boot, and those pages come back as network
/// buffers and slab objects (on a Redis server under load, 1 M slow stores in 1 G instructions,
/// 900,000 of them into one page). After ``initialLimit`` stores since the page became a code
/// page, the page is retired; running code from it again makes it a code page again, with twice
/// the limit (up to ``maximumLimit``), so that a page really mixing code and busy data settles
/// on few retirements. Bookkeeping only: which path a store takes changes no result.
final class CodePageStores {
    static let initialLimit: UInt16 = 64
    static let maximumLimit: UInt16 = 1 << 14

    /// Per page: stores since it became a code page, and the stores that retire it. Sound:
    /// allocated in init for `pageCount` pages, deallocated in deinit.
    private let counts: UnsafeMutablePointer<UInt16>
    private let limits: UnsafeMutablePointer<UInt16>
    /// Per page: the decoded-instruction slots a retired page left, reused when it holds code
    /// again (never freed before the memory: an executor may still be inside them, where every
    /// slot now sends it to look the page up again).
    let spareSlots: UnsafeMutablePointer<UnsafeMutablePointer<DecodedInstruction>?>
    private let pageCount: Int

    init(pageCount: Int) {
        self.pageCount = pageCount
        counts = .allocate(capacity: pageCount)
        counts.initialize(repeating: 0, count: pageCount)
        limits = .allocate(capacity: pageCount)
        limits.initialize(repeating: CodePageStores.initialLimit, count: pageCount)
        spareSlots = .allocate(capacity: pageCount)
        spareSlots.initialize(repeating: nil, count: pageCount)
    }

    deinit {
        for page in 0..<pageCount { spareSlots[page]?.deallocate() }
        spareSlots.deallocate()
        counts.deallocate()
        limits.deallocate()
    }

    /// Counts a guest store into code page `page`; true when the page should be retired.
    @inline(__always) func noteStore(page: Int) -> Bool {
        counts[page] &+= 1
        return counts[page] >= limits[page]
    }

    /// Page `page` was retired: when it holds code again, it takes twice as many stores.
    func noteRetired(page: Int) {
        counts[page] = 0
        limits[page] = min(CodePageStores.maximumLimit, limits[page] &* 2)
    }
}
