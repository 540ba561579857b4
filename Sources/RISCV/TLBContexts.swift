/// What lets the TLBs survive the changes of translation context that Linux makes all the time,
/// instead of emptying them (see ``Hart/changeTranslationContext(to:)``):
///
/// - **A change of privilege** (every trap from user code into the kernel and every return to it)
///   keeps the TLBs of the level it leaves and brings back those of the level it enters, for as
///   long as `satp` and the rest of the context stay (`sfence.vma` and any other change drop
///   them). The entries of one level were filled by that level's own permission checks.
/// - **SUM turned on** (the kernel opening a copy to or from user memory) changes nothing: every
///   entry filled with SUM off stays valid with it on, which only permits more.
/// - **SUM turned off** drops just the data entries filled while it was on (``recordFill(table:index:)``),
///   the only ones that may hold a user page the kernel may no longer touch; past
///   ``maximumFills`` of them, both data TLBs.
///
/// Before, each of these emptied all three TLBs: on a Redis server under load, 500,000 times in
/// 1 G instructions, and about 31 misses after each (16 M of the 25 M instructions the JIT had to
/// leave to the interpreter). Not machine state: what the TLBs hold changes no result, only how
/// often the slow path runs (the guest fences every change of its page tables, as the
/// architecture requires).
final class TLBContexts {
    /// Saved sets, one per privilege level (indexed by its raw value): the three tables, as in
    /// the hart's block. Sound: allocated in init, deallocated in deinit, used by one thread.
    private let saved: UnsafeMutablePointer<TLBEntry>
    /// Which saved sets hold entries, and the page-flag epoch their write entries were made at.
    private var isSaved = [Bool](repeating: false, count: 4)
    private var savedFlagEpochs = [UInt64](repeating: 0, count: 4)

    /// The data entries filled while SUM was on: table (0 read, 1 write) times entries plus index.
    private let fills: UnsafeMutablePointer<UInt16>
    private var fillCount = 0
    static let maximumFills = 32

    private static let setEntries = 3 * TLB.entries

    init() {
        saved = .allocate(capacity: 4 * TLBContexts.setEntries)
        saved.initialize(repeating: .invalid, count: 4 * TLBContexts.setEntries)
        fills = .allocate(capacity: TLBContexts.maximumFills)
        fills.initialize(repeating: 0, count: TLBContexts.maximumFills)
    }

    deinit {
        saved.deallocate()
        fills.deallocate()
    }

    /// Forgets every saved set and every recorded fill (the TLBs were flushed).
    func dropAll() {
        for level in 0..<4 { isSaved[level] = false }
        fillCount = 0
    }

    /// Keeps the hart's current tables as those of `leaving`, and puts `entering`'s back in
    /// their place (or empties them). Returns the flag epoch the restored write entries were
    /// made at (nil: the tables are empty now).
    func switchLevel(_ tlb: TLB, leaving: Int, entering: Int, flagEpoch: UInt64) -> UInt64? {
        let setEntries = TLBContexts.setEntries
        (saved + leaving * setEntries).update(from: tlb.storage, count: setEntries)
        isSaved[leaving] = true
        savedFlagEpochs[leaving] = flagEpoch
        fillCount = 0
        guard isSaved[entering] else {
            tlb.flushAll()
            return nil
        }
        tlb.storage.update(from: saved + entering * setEntries, count: setEntries)
        return savedFlagEpochs[entering]
    }

    /// Notes a data entry filled while SUM is on (`table` 0: read, 1: write).
    @inline(__always) func recordFill(table: Int, index: Int) {
        if fillCount < TLBContexts.maximumFills { fills[fillCount] = UInt16(table * TLB.entries + index) }
        fillCount += 1
    }

    /// Drops the data entries filled while SUM was on (SUM is now off).
    func dropFills(_ tlb: TLB) {
        if fillCount > TLBContexts.maximumFills {
            tlb.read.update(repeating: .invalid, count: TLB.entries)
            tlb.write.update(repeating: .invalid, count: TLB.entries)
        } else {
            for i in 0..<fillCount { tlb.storage[Int(fills[i])] = .invalid }
        }
        fillCount = 0
    }
}
