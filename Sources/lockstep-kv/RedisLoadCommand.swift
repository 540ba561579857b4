import ArgumentParser
import Dispatch
import Foundation
import KVWorkload
import LockstepSupport

/// `lockstep-kv redis-load`: writes to a Redis server over one connection, then reads every
/// acknowledged write back.
struct RedisLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-load",
        abstract: "Write to a Redis server over ONE connection, never reconnecting, then read every acknowledged write back.",
        discussion: """
            Write n is SET <prefix>-k<(n-1) mod keys> <prefix>-<n>, one at a time, each remembered \
            before it is sent and marked acknowledged on +OK. The write phase ends after --duration \
            seconds, on SIGTERM or SIGINT (the write in flight is finished, then the read-back runs; \
            a second signal ends the process at once with status 1), or when the connection fails: \
            a reset or closed connection, or a reply later than --request-timeout, is reported and \
            never papered over with a reconnection. Then every acknowledged key is read back with \
            GET (on the same connection if it is still open, else on a new one).

            Prints progress every second to standard error and a summary to standard output; \
            --json writes the summary as JSON (also when the run fails).

            Exit status: 0 when the connection was kept for the whole write phase, every \
            acknowledged key was read back and no acknowledged write was lost; 1 otherwise.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The Redis server.", valueName: "host:port"))
    var endpoint: String

    @Option(name: .long, help: ArgumentHelp("Seconds to write (the write phase also ends on SIGTERM or SIGINT).", valueName: "seconds"))
    var duration: Double

    @Option(name: .long, help: ArgumentHelp("How many keys are written in turn.", valueName: "n"))
    var keys = 1000

    @Option(name: .long, help: ArgumentHelp("Start of every key and value; random by default.", valueName: "prefix"))
    var prefix: String?

    @Option(name: .long, help: ArgumentHelp("Write the summary as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for one reply before giving the connection up.", valueName: "seconds"))
    var requestTimeout: Double = 5

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the connection.", valueName: "seconds"))
    var connectTimeout: Double = 2

    @Option(name: .long, help: ArgumentHelp("Write the ledger (every acknowledged write) to this file, for `lockstep-kv redis-verify`.", valueName: "path"))
    var ledger: String?

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    func validate() throws {
        _ = try parsedEndpoint()
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        guard requestTimeout > 0, connectTimeout > 0 else { throw ValidationError("--request-timeout and --connect-timeout must be positive") }
        if let prefix, prefix.isEmpty || prefix.utf8.count > 64 || !prefix.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            throw ValidationError("--prefix must be 1 to 64 printable ASCII characters without spaces")
        }
    }

    func parsedEndpoint() throws -> Endpoint {
        do {
            return try Endpoint(parsing: endpoint, allowsPortZero: false)
        } catch {
            throw ValidationError("--endpoint: \(error)")
        }
    }

    func run() throws {
        let writer = RedisWriter(options: .init(endpoint: try parsedEndpoint(), keys: keys, prefix: prefix ?? RedisWriter.randomPrefix(),
                                                duration: duration, requestTimeout: requestTimeout, connectTimeout: connectTimeout))
        let signals = StopSignals { writer.stop() }
        writer.write { progress in
            if !quiet {
                reportError("lockstep-kv: \(String(format: "%.1f", progress.seconds)) s: \(progress.acknowledgedWrites) writes acknowledged, "
                            + "longest gap \(String(format: "%.1f", progress.longestGap * 1000)) ms")
            }
        }
        if signals.received { reportError("lockstep-kv: stopped by a signal; reading the acknowledged writes back") }
        var passed = true
        if let ledger {
            do {
                try writer.ledger.text.write(toFile: ledger, atomically: true, encoding: .utf8)
            } catch {
                reportError("lockstep-kv: cannot write the ledger to \(ledger): \(error)")
                passed = false
            }
        }
        writer.verify()
        let summary = writer.summary
        print(summary)
        passed = passed && summary.passed
        if let json {
            do {
                try summary.json().write(to: URL(fileURLWithPath: json), options: .atomic)
            } catch {
                reportError("lockstep-kv: cannot write the summary to \(json): \(error)")
                passed = false
            }
        }
        if !passed { throw ExitCode(1) }
    }
}

/// SIGTERM and SIGINT end the write phase (the first one calls `stop`); a second one ends the
/// process at once with status 1.
private final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var sources: [DispatchSourceSignal] = []

    init(stop: @escaping @Sendable () -> Void) {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let first = lock.withLock {
                    count += 1
                    return count == 1
                }
                if first {
                    stop()
                } else {
                    reportError("lockstep-kv: second signal: exiting without the read-back")
                    exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// True once a signal came.
    var received: Bool { lock.withLock { count > 0 } }
}
