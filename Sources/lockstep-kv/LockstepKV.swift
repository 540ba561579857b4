import ArgumentParser

/// `lockstep-kv`: the key-value workload's command.
struct LockstepKV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep-kv",
        abstract: "Write to the Linux guest's key-value service, remember every acknowledged write, and check them.",
        discussion: """
            The service runs in the guest booted with lockstep.service=kv on the kernel command line, \
            on a console reachable over TCP (lockstep run --console-port PORT). Give the console ports \
            of every host that may run the machine: the clients use the first that answers and move \
            on to the next when it stops answering (a failover).

            redis-load is the other workload: a Redis server (in the guest, or anywhere) written to \
            over one connection that must survive, every acknowledged write read back at the end.
            """,
        subcommands: [LoadCommand.self, VerifyCommand.self, RedisLoadCommand.self, RedisVerifyCommand.self]
    )
}
