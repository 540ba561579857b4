import Machine

/// The following side of the determinism boundary, one engine for `lockstep replay` and a
/// replicated backup: runs the machine exactly to each record's instruction count (never past
/// it), delivers inputs there, and compares every ``Checkpoint`` with its own state and outputs,
/// stopping with a ``Divergence`` that names what differs.
///
/// A guest that asks for a reset stops its machine there (``Machine/isResetRequested``); the
/// followed run logged a ``MachineInput/reboot`` at that very count, which the follower applies.
/// A reboot record anywhere else, or any record past a reset request that is not the reboot, is
/// a divergence.
public final class Follower {
    public let machine: Machine
    /// Every output the machine produced (a backup's are discarded; a replay's are compared).
    public private(set) var outputDigest = OutputDigest()
    /// The count of the last checkpoint that matched (or where following began).
    public private(set) var lastMatch: UInt64
    public private(set) var inputsApplied = 0
    public private(set) var checkpointsMatched = 0
    /// Called with each output after it is digested (a replay prints the console).
    public var onOutput: (MachineOutput) -> Void = { _ in }

    /// Whether the output digest is still to be adopted from the first checkpoint.
    /// What the followed run had sent before following began.
    private enum OutputBaseline {
        /// Given at the start: every checkpoint's output digest is compared.
        case known
        /// Learnt from the first checkpoint, if it is taken where following began.
        case fromFirstCheckpoint
        /// Not learnt (the first checkpoint came after outputs): outputs are not compared.
        case unknown
    }
    private var baseline: OutputBaseline

    /// Takes over `machine`'s output sink and idle handling (idle time comes from the log).
    /// `outputs` is the digest of what the followed run had sent before this point; nil when it
    /// is not known (a backup built from a snapshot): the first checkpoint, taken where the
    /// snapshot was, then provides it.
    public init(machine: Machine, outputs: OutputDigest? = OutputDigest()) {
        self.machine = machine
        lastMatch = machine.instructionCount
        outputDigest = outputs ?? OutputDigest()
        baseline = outputs == nil ? .fromFirstCheckpoint : .known
        machine.skipsIdleTime = false
        machine.onOutput = { [unowned self] output in
            outputDigest.add(output)
            onOutput(output)
        }
    }

    /// Runs to exactly `target`. Returns how the machine stopped if it powered off or asked for
    /// a reset exactly there (nil otherwise). A machine that asked for a reset runs no further:
    /// a later target means the followed run did not reboot where this guest asked to.
    @discardableResult
    public func run(to target: UInt64) throws(Divergence) -> Machine.StopReason? {
        if machine.isResetRequested {
            if machine.instructionCount < target {
                throw .rebootMissing(instructionCount: machine.instructionCount, next: target)
            }
            return .resetRequested
        }
        while machine.instructionCount < target {
            let reason = machine.run(instructionLimit: target)
            switch reason {
            case .instructionLimit, .diskFlushed:
                continue
            case .waitingForInterrupt, .idle:
                // Waiting exactly at the next record's count is what the live run saw too.
                if machine.instructionCount < target {
                    throw .idleBeforeTarget(instructionCount: machine.instructionCount, target: target)
                }
            case .resetRequested:
                if machine.instructionCount < target {
                    throw .rebootMissing(instructionCount: machine.instructionCount, next: target)
                }
                return reason
            case .exited:
                if machine.instructionCount < target {
                    throw .stoppedEarly(instructionCount: machine.instructionCount, target: target, reason: "\(reason)")
                }
                return reason
            }
        }
        return nil
    }

    /// Takes one record: runs to its count, then applies the input or checks the checkpoint.
    /// Returns how the machine stopped at the record's count, as ``run(to:)`` does (nil after a
    /// reboot record: the machine runs again).
    @discardableResult
    public func take(_ record: JournalRecord) throws(Divergence) -> Machine.StopReason? {
        var stop = try run(to: record.instructionCount)
        switch record {
        case .input(let event):
            switch (event.input, machine.isResetRequested) {
            case (.reboot, true):
                stop = nil
            case (.reboot, false):
                throw .unexpectedReboot(instructionCount: machine.instructionCount)
            case (_, true):
                throw .rebootMissing(instructionCount: machine.instructionCount, next: record.instructionCount)
            case (_, false):
                break
            }
            machine.apply(event.input)
            inputsApplied += 1
        case .progress:
            break
        case .checkpoint(let checkpoint):
            try check(checkpoint)
        }
        return stop
    }

    /// Compares a checkpoint taken at the current count with this machine's state and outputs.
    public func check(_ checkpoint: Checkpoint) throws(Divergence) {
        let actual = machine.stateDigest()
        if let difference = checkpoint.state.differences(from: actual) {
            throw .stateDiffers(difference, lastMatch: lastMatch)
        }
        if baseline == .fromFirstCheckpoint {
            // Only a checkpoint before this machine sent anything says what was sent before it.
            baseline = outputDigest.outputCount == 0 ? .known : .unknown
            if baseline == .known { outputDigest = checkpoint.outputs }
        }
        guard baseline == .unknown || checkpoint.outputs == outputDigest else {
            throw .outputsDiffer(instructionCount: machine.instructionCount, expected: checkpoint.outputs, actual: outputDigest)
        }
        lastMatch = machine.instructionCount
        checkpointsMatched += 1
    }
}
