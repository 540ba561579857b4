import Machine

/// One nondeterministic input and the exact instruction count at which it entered the machine.
public struct Event: Equatable, Sendable {
    public var instructionCount: UInt64
    public var input: MachineInput

    public init(instructionCount: UInt64, input: MachineInput) {
        self.instructionCount = instructionCount
        self.input = input
    }
}
