import ArgumentParser
import Foundation
import KVWorkload
import LockstepSupport

/// `lockstep-kv redis-verify`: checks a ledger written by `redis-load --ledger` against a Redis
/// server, on a new connection (after the server restarted, for instance from its disk).
struct RedisVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-verify",
        abstract: "Read back every acknowledged write of a ledger (from `redis-load --ledger`) from a Redis server.",
        discussion: "Exit status: 0 when no acknowledged write was lost; 1 otherwise, or when the server did not answer."
    )

    @Option(name: .long, help: ArgumentHelp("The Redis server.", valueName: "host:port"))
    var endpoint: String

    @Option(name: .long, help: ArgumentHelp("The ledger file written by `lockstep-kv redis-load --ledger`.", valueName: "path"))
    var ledger: String

    @Option(name: .long, help: ArgumentHelp("Seconds to keep trying to connect (the server may still be starting).", valueName: "seconds"))
    var connectTimeout: Double = 30

    func run() throws {
        let loaded: Ledger
        let server: Endpoint
        do {
            server = try Endpoint(parsing: endpoint, allowsPortZero: false)
            loaded = try Ledger(text: try String(contentsOfFile: ledger, encoding: .utf8))
        } catch {
            reportError("lockstep-kv: \(error)")
            throw ExitCode(1)
        }
        let deadline = monotonicSeconds() + connectTimeout
        var client: RedisClient?
        while client == nil {
            do {
                client = try RedisClient(endpoint: server, connectTimeout: 2, requestTimeout: 10)
            } catch {
                if monotonicSeconds() >= deadline {
                    reportError("lockstep-kv: cannot connect to \(endpoint): \(error)")
                    throw ExitCode(1)
                }
                usleep(200_000)
            }
        }
        defer { client?.close() }
        let report: VerificationReport
        do {
            report = try loaded.verify { key in try client!.get(key) }
        } catch {
            reportError("lockstep-kv: reading back from \(endpoint): \(error)")
            throw ExitCode(1)
        }
        print(report)
        if !report.lost.isEmpty { throw ExitCode(1) }
    }
}
