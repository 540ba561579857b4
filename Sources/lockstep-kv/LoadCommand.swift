import ArgumentParser
import Foundation
import KVWorkload

/// `lockstep-kv load`: writes with several clients, reports, and optionally verifies every write.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Write (and read back) keys with one or more clients, then print a summary.",
        discussion: """
            Each client writes keys of its own, every write with a new value, and every --read-every'th \
            request reads a written key back and checks it. Prints progress every second to standard \
            error and a summary to standard output: writes acknowledged, reconnects, the longest \
            pause between two answers (what a failover looks like to a client) and latencies. \
            With --verify, reads every acknowledged write back at the end.

            Exit status: 0 when every check passed; 1 when a write was lost, a client failed or \
            the service did not answer.
            """
    )

    @OptionGroup var service: ServiceOptions

    @Option(name: .long, help: "Clients writing at once.")
    var clients = 1

    @Option(name: .long, help: "Keys per client.")
    var keys = 50

    @Option(name: .long, help: ArgumentHelp("Acknowledged writes in all, then stop.", valueName: "count"))
    var writes: Int?

    @Option(name: .long, help: ArgumentHelp("Run this many seconds, then stop.", valueName: "seconds"))
    var duration: Double?

    @Option(name: .long, help: ArgumentHelp("Read a written key back every this many requests (0: never).", valueName: "n"))
    var readEvery = 4

    @Flag(name: .long, help: "At the end, read every acknowledged write back and check it.")
    var verify = false

    @Option(name: .long, help: ArgumentHelp("Write the ledger (every acknowledged write) to this file, for `lockstep-kv verify`.", valueName: "path"))
    var ledger: String?

    @Option(name: .long, help: ArgumentHelp("Start of the client names (and so of their keys); random by default.", valueName: "prefix"))
    var name: String?

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    func validate() throws {
        guard (writes == nil) != (duration == nil) else { throw ValidationError("give either --writes or --duration") }
        guard clients >= 1, clients <= 256 else { throw ValidationError("--clients must be between 1 and 256") }
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        guard readEvery >= 0 else { throw ValidationError("--read-every must be 0 or more") }
        if let writes, writes < 1 { throw ValidationError("--writes must be at least 1") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if let name, !KVRequest.isToken(name) || name.count > 24 {
            throw ValidationError("--name must be 1 to 24 printable characters without spaces")
        }
    }

    func run() throws {
        let options = LoadGenerator.Options(
            endpoints: try service.parsedEndpoints(), clients: clients, keysPerClient: keys, writes: writes,
            duration: duration, readEvery: readEvery, namePrefix: name ?? LoadGenerator.randomPrefix(),
            client: service.clientOptions)
        let summary = LoadGenerator(options: options).run { progress in
            if !quiet { reportError("lockstep-kv: \(progress.progressLine)") }
        }
        print(summary)
        var clean = summary.isClean
        if let ledger {
            do {
                try summary.ledger.text.write(toFile: ledger, atomically: true, encoding: .utf8)
            } catch {
                reportError("lockstep-kv: cannot write the ledger to \(ledger): \(error)")
                clean = false
            }
        }
        if verify {
            clean = try verifyLedger(summary.ledger, service: service, clientName: options.namePrefix + "verify") && clean
        }
        if !clean { throw ExitCode(1) }
    }
}

/// Reads every acknowledged write of `ledger` back and prints the report; false if any was lost
/// or the service did not answer.
func verifyLedger(_ ledger: Ledger, service: ServiceOptions, clientName: String) throws -> Bool {
    do {
        let client = try KVClient(endpoints: try service.parsedEndpoints(), name: clientName, options: service.clientOptions)
        defer { client.close() }
        let report = try ledger.verify(using: client)
        print(report)
        if !report.isClean { reportError("lockstep-kv: \(report.lost.count) acknowledged writes were LOST") }
        return report.isClean
    } catch let error as KVError {
        reportError("lockstep-kv: verify: \(error)")
        return false
    }
}

/// Writes a line to standard error.
func reportError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
