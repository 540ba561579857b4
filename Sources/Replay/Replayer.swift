import Machine

/// Why a replay did not reproduce its recording.
public enum ReplayError: Error, Equatable, CustomStringConvertible {
    /// The machine built for the replay does not start in the recorded state.
    case initialStateDiffers(expected: UInt64, actual: UInt64)
    /// A state hash differs: execution diverged at or before this instruction count.
    case diverged(instructionCount: UInt64, expected: UInt64, actual: UInt64, previousMatch: UInt64)
    /// The guest waited for an interrupt at `instructionCount`, but the log's next input is later.
    case idleBeforeNextInput(instructionCount: UInt64, nextRecord: UInt64)
    /// The guest stopped (power-off, reset) before the log's next record.
    case stoppedEarly(instructionCount: UInt64, nextRecord: UInt64, reason: String)
    /// The session ended differently (another stop reason or exit code).
    case endDiffers(expected: String, actual: String)
    /// The console output differs from the recording's.
    case outputDiffers(expectedBytes: UInt64, actualBytes: UInt64)

    public var description: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case .initialStateDiffers(let expected, let actual):
            return "the replay machine does not start in the recorded state (state hash \(hex(actual)), recorded \(hex(expected))): the images or the configuration differ"
        case .diverged(let count, let expected, let actual, let previous):
            return "replay diverged: at instruction \(count) the state hash is \(hex(actual)), the recording had \(hex(expected)) (the states last matched at instruction \(previous))"
        case .idleBeforeNextInput(let count, let next):
            return "replay diverged: the guest waits for an interrupt at instruction \(count), but the recording's next input is at \(next)"
        case .stoppedEarly(let count, let next, let reason):
            return "replay diverged: the guest stopped (\(reason)) at instruction \(count), before the recording's next record at \(next)"
        case .endDiffers(let expected, let actual):
            return "replay diverged: the session ended with \(actual), the recording with \(expected)"
        case .outputDiffers(let expected, let actual):
            return "replay diverged: the console output differs from the recording (\(actual) bytes, recorded \(expected))"
        }
    }
}

/// What a successful replay did.
public struct ReplayResult: Equatable, Sendable {
    public var instructionCount: UInt64
    public var stateHash: UInt64
    public var output: [UInt8]
    public var eventsApplied: Int
    public var hashesMatched: Int
}

/// Re-executes a recorded session on a machine built from its ``SessionDescription``: runs to each
/// record's instruction count, delivers the inputs, compares state hashes, and at the end checks
/// the stop reason, the final state hash and the console output.
public enum Replayer {
    public static func replay(_ log: EventLog, on machine: Machine,
                              output: @escaping (UInt8) -> Void = { _ in }) throws(ReplayError) -> ReplayResult {
        let initial = machine.stateHash()
        guard initial == log.session.initialStateHash else {
            throw .initialStateDiffers(expected: log.session.initialStateHash, actual: initial)
        }
        machine.skipsIdleTime = false
        var produced: [UInt8] = []
        machine.consoleOutput = { byte in
            produced.append(byte)
            output(byte)
        }
        var lastStop: Machine.StopReason?
        var events = 0, hashes = 0
        var lastMatch: UInt64 = 0

        for record in log.records {
            let target: UInt64
            switch record {
            case .event(let event): target = event.instructionCount
            case .stateHash(let count, _): target = count
            case .end(let end): target = end.instructionCount
            }
            while machine.instructionCount < target {
                let reason = machine.run(instructionLimit: target)
                switch reason {
                case .instructionLimit:
                    continue
                case .waitingForInterrupt, .idle:
                    // Waiting exactly at the next record's count is what the recording saw too.
                    if machine.instructionCount < target {
                        throw .idleBeforeNextInput(instructionCount: machine.instructionCount, nextRecord: target)
                    }
                case .exited, .resetRequested:
                    lastStop = reason
                    if machine.instructionCount < target {
                        throw .stoppedEarly(instructionCount: machine.instructionCount, nextRecord: target, reason: "\(reason)")
                    }
                }
            }
            switch record {
            case .event(let event):
                machine.apply(event.input)
                events += 1
            case .stateHash(let count, let expected):
                let actual = machine.stateHash()
                guard actual == expected else {
                    throw .diverged(instructionCount: count, expected: expected, actual: actual, previousMatch: lastMatch)
                }
                lastMatch = count
                hashes += 1
            case .end(let end):
                let actual = machine.stateHash()
                guard actual == end.stateHash else {
                    throw .diverged(instructionCount: end.instructionCount, expected: end.stateHash, actual: actual, previousMatch: lastMatch)
                }
                hashes += 1
                switch end.stop {
                case .exited(let code):
                    guard lastStop == .exited(code: code) else { throw .endDiffers(expected: "exit code \(code)", actual: "\(String(describing: lastStop))") }
                case .reset:
                    guard lastStop == .resetRequested else { throw .endDiffers(expected: "a reset", actual: "\(String(describing: lastStop))") }
                case .stoppedByHost:
                    break
                }
                var hasher = StateHasher()
                produced.withUnsafeBytes { hasher.combine(bytes: $0) }
                guard UInt64(produced.count) == end.outputByteCount, hasher.finalize() == end.outputHash else {
                    throw .outputDiffers(expectedBytes: end.outputByteCount, actualBytes: UInt64(produced.count))
                }
            }
        }
        return ReplayResult(instructionCount: machine.instructionCount, stateHash: machine.stateHash(),
                            output: produced, eventsApplied: events, hashesMatched: hashes)
    }
}
