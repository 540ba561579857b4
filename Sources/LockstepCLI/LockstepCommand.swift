import ArgumentParser

/// The `lockstep` command: fault-tolerant RISC-V virtual machines.
public struct LockstepCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lockstep",
        abstract: "Run RISC-V virtual machines that survive the loss of a host.",
        subcommands: [RunCommand.self, ReplayCommand.self, SnapshotCommand.self, NodeCommand.self, ArbiterCommand.self,
                      AgentCommand.self, VMCommand.self, HostCommand.self, StatusCommand.self]
    )

    public init() {}
}
