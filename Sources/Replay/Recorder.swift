import Machine

/// The journal of a recorded session (`lockstep run --record`): writes every input and every
/// checkpoint the ``LiveRunner`` appends into an event log, and the end record when the session
/// stops. Progress marks are not written: a replay runs from one record to the next.
public final class Recorder: Journal {
    private let writer: EventLogWriter
    public private(set) var position: UInt64 = 0

    public init(writer: EventLogWriter) {
        self.writer = writer
    }

    public func append(_ record: JournalRecord) throws {
        switch record {
        case .input(let event): try writer.append(.event(event))
        case .checkpoint(let checkpoint): try writer.append(.checkpoint(checkpoint))
        case .progress: break
        }
        position &+= 1
    }

    /// Writes the end record (the final state hash and the digest of every output) and flushes the log.
    public func finish(_ stop: SessionEnd.Stop, machine: Machine, outputs: OutputDigest) throws(EventLogWriter.WriteError) {
        try writer.append(.end(SessionEnd(instructionCount: machine.instructionCount, stateHash: machine.stateHash(),
                                          outputByteCount: outputs.byteCount, outputHash: outputs.value, stop: stop)))
        writer.synchronize()
    }
}
