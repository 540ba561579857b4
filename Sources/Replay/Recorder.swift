import Machine

/// Records a session as it runs: every input delivered to the machine (with the instruction
/// count), a state hash now and then, and the end. Inputs must reach the machine through
/// ``deliver(_:)`` so that nothing escapes the log.
public final class Recorder {
    public let machine: Machine
    private let writer: EventLogWriter
    /// A state hash is logged at the first delivery point after each multiple of this count.
    public let hashInterval: UInt64
    private var nextHash: UInt64
    private var output: [UInt8] = []

    public init(machine: Machine, writer: EventLogWriter, hashInterval: UInt64 = 1_000_000_000) {
        self.machine = machine
        self.writer = writer
        self.hashInterval = max(1, hashInterval)
        nextHash = self.hashInterval
    }

    /// Console bytes the guest produced (the owner forwards them here as well as to the terminal).
    public func noteOutput(_ byte: UInt8) { output.append(byte) }

    /// Logs `input` at the current instruction count and applies it.
    public func deliver(_ input: MachineInput) throws(EventLogWriter.WriteError) {
        try writer.append(.event(Event(instructionCount: machine.instructionCount, input: input)))
        machine.apply(input)
    }

    /// Logs a state hash if the count has passed the next hash point. Call between slices.
    public func checkpointIfDue() throws(EventLogWriter.WriteError) {
        guard machine.instructionCount >= nextHash else { return }
        try writer.append(.stateHash(instructionCount: machine.instructionCount, hash: machine.stateHash()))
        while nextHash <= machine.instructionCount { nextHash &+= hashInterval }
    }

    /// Writes the end record and flushes the log.
    public func finish(_ stop: SessionEnd.Stop) throws(EventLogWriter.WriteError) {
        var hasher = StateHasher()
        output.withUnsafeBytes { hasher.combine(bytes: $0) }
        try writer.append(.end(SessionEnd(instructionCount: machine.instructionCount, stateHash: machine.stateHash(),
                                          outputByteCount: UInt64(output.count), outputHash: hasher.finalize(), stop: stop)))
        writer.synchronize()
    }
}
