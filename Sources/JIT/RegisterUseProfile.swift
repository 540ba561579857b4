/// How often each guest register is used by the code that runs: what ``JITAccelerator``
/// chooses the register allocation (``GuestRegisterAllocation``) from.
///
/// While the accelerator profiles, each block it translates gets a counter here, which the
/// block's code increments at every execution (after its budget check), and the profile keeps
/// how often each guest register appears in the block's instructions. Executions times uses,
/// summed over the blocks, weigh a register by how often the code that actually runs touches
/// it: a static count would give a loop's registers no more weight than those of code run once.
///
/// Not `Sendable`: one accelerator (one thread) owns it, and generated code writes the counters
/// only while that thread runs it.
final class RegisterUseProfile {
    /// The most blocks profiled at once (later blocks run without a counter).
    static let capacity = 4096

    /// The counters, one per profiled block. Sound to access for `capacity` entries until deinit.
    private let counters: UnsafeMutablePointer<UInt64>
    /// Per profiled block, how often each guest register x0...x31 appears in it (32 entries each).
    private var uses: [Int] = []
    /// Blocks profiled since the last ``clear()``.
    private(set) var blocks = 0

    init() {
        counters = .allocate(capacity: Self.capacity)
        counters.initialize(repeating: 0, count: Self.capacity)
    }

    deinit { counters.deallocate() }

    /// The host address of the counter the next block gets (``record(uses:)`` gives it to the
    /// block), nil when the profile is full.
    var nextCounter: UInt? {
        blocks < Self.capacity ? UInt(bitPattern: counters + blocks) : nil
    }

    /// Gives the block whose code increments ``nextCounter`` its register uses (32 entries).
    func record(uses blockUses: [Int]) {
        precondition(blockUses.count == 32 && blocks < Self.capacity, "a block's register uses are 32 counts, for a counter the profile has")
        counters[blocks] = 0
        uses.append(contentsOf: blockUses)
        blocks += 1
    }

    /// Per guest register (32 entries): the uses of every profiled block times its executions.
    func weightedUses() -> [Int] {
        var total = [Int](repeating: 0, count: 32)
        for block in 0 ..< blocks {
            let executions = Int(clamping: counters[block])
            for register in 0 ..< 32 {
                total[register] &+= executions &* uses[32 * block + register]
            }
        }
        return total
    }

    /// Forgets every block (their code is gone).
    func clear() {
        uses.removeAll(keepingCapacity: true)
        blocks = 0
    }
}
