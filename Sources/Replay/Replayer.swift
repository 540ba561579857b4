import Machine

/// Why a replay did not reproduce its recording.
public enum ReplayError: Error, Equatable, CustomStringConvertible {
    /// The machine built for the replay does not start in the recorded state.
    case initialStateDiffers(expected: UInt64, actual: UInt64)
    /// The replay diverged from the recording (see ``Divergence``: what differs, and where).
    case diverged(Divergence)
    /// The session ended differently (another stop reason or exit code).
    case endDiffers(expected: String, actual: String)
    /// The final state hash differs although every checkpoint matched.
    case finalStateDiffers(instructionCount: UInt64, expected: UInt64, actual: UInt64)
    /// The outputs differ from the recording's at the end.
    case outputDiffers(expected: OutputDigest, actual: OutputDigest)

    public var description: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case .initialStateDiffers(let expected, let actual):
            return "the replay machine does not start in the recorded state (state hash \(hex(actual)), recorded \(hex(expected))): the images or the configuration differ"
        case .diverged(let divergence):
            return "replay \(divergence)"
        case .endDiffers(let expected, let actual):
            return "replay diverged: the session ended with \(actual), the recording with \(expected)"
        case .finalStateDiffers(let count, let expected, let actual):
            return "replay diverged: at the end (instruction \(count)) the state hash is \(hex(actual)), the recording had \(hex(expected))"
        case .outputDiffers(let expected, let actual):
            return "replay diverged: the guest sent \(actual), the recording \(expected)"
        }
    }
}

/// What a successful replay did.
public struct ReplayResult: Equatable, Sendable {
    public var instructionCount: UInt64
    public var stateHash: UInt64
    /// The console bytes the replay produced.
    public var output: [UInt8]
    public var eventsApplied: Int
    /// Checkpoints matched, plus the end record's final state.
    public var hashesMatched: Int
}

/// Re-executes a recorded session on a machine built from its ``SessionDescription`` with the
/// ``Follower``: runs to each record's instruction count, delivers the inputs, compares every
/// checkpoint, and at the end checks the stop reason, the final state hash and the outputs.
public enum Replayer {
    public static func replay(_ log: EventLog, on machine: Machine,
                              output: @escaping (UInt8) -> Void = { _ in }) throws(ReplayError) -> ReplayResult {
        let initial = machine.stateHash()
        guard initial == log.session.initialStateHash else {
            throw .initialStateDiffers(expected: log.session.initialStateHash, actual: initial)
        }
        let follower = Follower(machine: machine)
        var produced: [UInt8] = []
        follower.onOutput = { item in
            if case .console(let bytes) = item {
                produced += bytes
                for byte in bytes { output(byte) }
            }
        }
        /// Runs a step of the follower, turning a divergence into a replay error.
        func follow<T>(_ body: () throws(Divergence) -> T) throws(ReplayError) -> T {
            do { return try body() } catch { throw .diverged(error) }
        }
        var hashes = 0
        for record in log.records {
            switch record {
            case .event(let event):
                try follow { () throws(Divergence) in try follower.take(.input(event)) }
            case .checkpoint(let checkpoint):
                try follow { () throws(Divergence) in try follower.take(.checkpoint(checkpoint)) }
                hashes += 1
            case .end(let end):
                let stop = try follow { () throws(Divergence) in try follower.run(to: end.instructionCount) }
                let actual = machine.stateHash()
                guard actual == end.stateHash else {
                    throw .finalStateDiffers(instructionCount: end.instructionCount, expected: end.stateHash, actual: actual)
                }
                hashes += 1
                switch end.stop {
                case .exited(let code):
                    guard stop == .exited(code: code) else { throw .endDiffers(expected: "exit code \(code)", actual: "\(String(describing: stop))") }
                case .reset:
                    guard stop == .resetRequested else { throw .endDiffers(expected: "a reset", actual: "\(String(describing: stop))") }
                case .stoppedByHost:
                    break
                }
                let recorded = OutputDigest(outputCount: follower.outputDigest.outputCount, byteCount: end.outputByteCount, value: end.outputHash)
                guard recorded == follower.outputDigest else {
                    throw .outputDiffers(expected: recorded, actual: follower.outputDigest)
                }
            }
        }
        return ReplayResult(instructionCount: machine.instructionCount, stateHash: machine.stateHash(),
                            output: produced, eventsApplied: follower.inputsApplied, hashesMatched: hashes)
    }
}
