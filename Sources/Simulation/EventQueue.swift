import DequeModule

/// The simulation's virtual clock and its agenda: events run in time order, ties in the order
/// they were scheduled, so a run is a pure function of its seed.
final class EventQueue {
    struct Entry {
        var time: Double
        var order: UInt64
        var action: () -> Void
    }
    private(set) var now = 0.0
    private var entries: [Entry] = []   // a binary heap on (time, order)
    private var order: UInt64 = 0

    func schedule(at time: Double, _ action: @escaping () -> Void) {
        order &+= 1
        entries.append(Entry(time: max(time, now), order: order, action: action))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    func schedule(after delay: Double, _ action: @escaping () -> Void) { schedule(at: now + delay, action) }

    private func less(_ a: Int, _ b: Int) -> Bool {
        entries[a].time < entries[b].time || (entries[a].time == entries[b].time && entries[a].order < entries[b].order)
    }

    /// Runs the next event; false when there is none or it lies beyond `limit`.
    func runNext(until limit: Double) -> Bool {
        guard let first = entries.first, first.time <= limit else { return false }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < entries.count && less(left, smallest) { smallest = left }
                if right < entries.count && less(right, smallest) { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        now = first.time
        first.action()
        return true
    }
}
