import ArgumentParser
import Foundation
import KVWorkload

/// `lockstep-kv verify`: checks a ledger written by `load --ledger` against the service.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read back every acknowledged write of a ledger (from `load --ledger`) and check it.",
        discussion: "Exit status: 0 when no acknowledged write was lost; 1 otherwise, or when the service did not answer."
    )

    @OptionGroup var service: ServiceOptions

    @Option(name: .long, help: ArgumentHelp("The ledger file written by `lockstep-kv load --ledger`.", valueName: "path"))
    var ledger: String

    func run() throws {
        let loaded: Ledger
        do {
            loaded = try Ledger(text: try String(contentsOfFile: ledger, encoding: .utf8))
        } catch {
            reportError("lockstep-kv: \(ledger): \(error)")
            throw ExitCode(1)
        }
        if !(try verifyLedger(loaded, service: service, clientName: LoadGenerator.randomPrefix() + "verify")) { throw ExitCode(1) }
    }
}
