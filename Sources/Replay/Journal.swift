import Machine

/// One record the live runner writes for whoever must be able to reproduce the run.
public enum JournalRecord: Equatable, Sendable {
    /// An input, before the machine sees it, with the count at which it enters.
    case input(Event)
    /// The machine has executed to this count (a follower may run up to it without inputs).
    case progress(instructionCount: UInt64)
    /// State and output digests at a count (see ``Checkpoint``).
    case checkpoint(Checkpoint)

    /// The instruction count a follower runs to before it takes the record.
    public var instructionCount: UInt64 {
        switch self {
        case .input(let event): return event.instructionCount
        case .progress(let count): return count
        case .checkpoint(let checkpoint): return checkpoint.instructionCount
        }
    }
}

/// Where the live runner writes its records: an event-log file (``Recorder``), the replication
/// log to a backup, or nowhere (an unrecorded `lockstep run`). Positions number the records; an
/// output is tagged with the position of the last record written before the guest produced it.
public protocol Journal: AnyObject {
    /// Position of the last record appended (0 before the first).
    var position: UInt64 { get }
    /// Appends a record. An input's record must be appended before the machine sees the input.
    func append(_ record: JournalRecord) throws
    /// Whether the journal keeps checkpoints (someone follows or replays it). The live runner
    /// takes none for a journal that does not: a checkpoint digests all touched RAM, and the
    /// first one reads every disk whole.
    var keepsCheckpoints: Bool { get }
}

extension Journal {
    /// Journals keep checkpoints unless they say otherwise.
    public var keepsCheckpoints: Bool { true }
}

/// A journal that keeps nothing (a run nobody follows); it still counts positions.
public final class DiscardingJournal: Journal {
    public private(set) var position: UInt64 = 0
    /// Nobody follows this run: no checkpoints are taken for it.
    public var keepsCheckpoints: Bool { false }
    public init() {}
    public func append(_ record: JournalRecord) { position &+= 1 }
}

/// Where a live machine's outputs go, each tagged with the journal position it depends on: the
/// output gate of a primary, or straight to the world when nobody follows.
public protocol OutputSink: AnyObject {
    func emit(_ output: MachineOutput, after position: UInt64)
}
