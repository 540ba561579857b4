import Foundation
import KVWorkload
import LockstepSupport
import Testing

/// The guest's key-value service (kvd, lockstep.service=kv) on a TCP console port, driven by
/// KVClient in this process and by the `lockstep-kv` command.
extension LinuxBootTests {
    /// The executable `name` built next to `lockstep`.
    static func sibling(_ name: String) -> String {
        URL(fileURLWithPath: lockstep).deletingLastPathComponent().appendingPathComponent(name).path
    }

    @Test func keyValueServiceOnATCPConsoleKeepsEveryAcknowledgedWrite() throws {
        try Self.requireImages()
        let session = try ConsoleSession(executable: Self.lockstep, arguments: [
            "run", "--console-port", "0", "--append", "console=ttyS0 lockstep.service=kv quiet",
        ])
        defer { if session.process.isRunning { kill(session.process.processIdentifier, SIGKILL) } }
        try session.expect("lockstep: console on 127.0.0.1:", timeout: Self.commandTimeout)
        let portText = try session.expect("\n", timeout: Self.commandTimeout).trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try #require(UInt16(portText))
        let endpoint = Endpoint(host: "127.0.0.1", port: port)

        // Connecting waits for the boot: probes sent before kvd runs go unanswered and are repeated.
        let options = KVClient.Options(requestTimeout: 3, connectTimeout: 2, deadline: Self.bootTimeout)
        let client = try KVClient(endpoints: [endpoint], name: "boot", options: options)
        try client.connect()
        #expect(try client.count() == 0)

        var ledger = Ledger()
        for n in 0..<300 {
            try ledger.write("k\(n % 37)", "v\(n)", using: client)
            if n % 3 == 2 {
                let key = "k\((n * 7) % 37)"
                #expect(ledger.check(key: key, found: try client.get(key)) == nil)
            }
        }
        #expect(try client.get("never-written") == nil)
        #expect(try client.count() == 37)
        let report = try ledger.verify(using: client)
        #expect(report.isClean, "\(report)")
        #expect(report.keysChecked == 37)
        #expect(report.acknowledgedWrites == 300)

        // A second client on the same console sees the same store.
        let other = try KVClient(endpoints: [endpoint], name: "other", options: options)
        #expect(try other.get("k0") == ledger.values["k0"])

        // The command: load with three clients, then verify every acknowledged write.
        let load = Process()
        load.executableURL = URL(fileURLWithPath: Self.sibling("lockstep-kv"))
        load.arguments = ["load", "--endpoints", "127.0.0.1:1,\(endpoint)", "--clients", "3", "--writes", "200", "--verify", "--quiet"]
        let output = Pipe()
        load.standardOutput = output
        load.standardError = output
        try load.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        load.waitUntilExit()
        #expect(load.terminationStatus == 0, "\(text)")
        #expect(text.contains("writes acknowledged: 200"))
        #expect(text.contains("none lost"))
        #expect(try client.count() > 37)   // the load wrote keys of its own

        // The console went to TCP, not to standard output.
        #expect(!session.transcript.contains("@kv"))

        // Power off: kill the process, as a host failure would.
        kill(session.process.processIdentifier, SIGKILL)
        session.process.waitUntilExit()
        #expect(session.process.terminationReason == .uncaughtSignal)
    }
}
