import Foundation
import Testing

/// `lockstep node`'s flags: wrong ones are refused with a message that says what to give.
@Suite struct NodeCommandTests {
    let cli = RunCommandTests()

    func keyFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-key-\(UUID().uuidString)").path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func wrongFlagsAreRefusedWithWhatToDo() throws {
        let key = try keyFile("secret\n")
        defer { try? FileManager.default.removeItem(atPath: key) }
        let lines = ["--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2", "--peer", "127.0.0.1:3", "--peer", "127.0.0.1:4"]
        let oneLine = try cli.lockstep(["node", "--vm", "v", "--key-file", key, "--listen", "127.0.0.1:1", "--peer", "127.0.0.1:3",
                                        "--arbiter-file", "/tmp/x"])
        #expect(oneLine.status != 0 && oneLine.stderr.contains("two independent lines"))
        let bothArbiters = try cli.lockstep(["node", "--vm", "v", "--key-file", key] + lines + ["--arbiter", "127.0.0.1:9", "--arbiter-file", "/tmp/x"])
        #expect(bothArbiters.status != 0 && bothArbiters.stderr.contains("exactly one of --arbiter"))
        let badAddress = try cli.lockstep(["node", "--vm", "v", "--key-file", key, "--listen", "nohost", "--listen", "127.0.0.1:2",
                                           "--peer", "127.0.0.1:3", "--peer", "127.0.0.1:4", "--arbiter-file", "/tmp/x"])
        #expect(badAddress.status != 0 && badAddress.stderr.contains("'nohost' is not HOST:PORT"))
        let empty = try keyFile("\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let emptyKey = try cli.lockstep(["node", "--vm", "v", "--key-file", empty] + lines + ["--arbiter-file", "/tmp/x"])
        #expect(emptyKey.status == 1 && emptyKey.stderr.contains("empty"))
        let missingKey = try cli.lockstep(["node", "--vm", "v", "--key-file", "/nonexistent/key"] + lines + ["--arbiter-file", "/tmp/x"])
        #expect(missingKey.status == 1 && missingKey.stderr.contains("/nonexistent/key"))
    }

    @Test func anUnreachableArbiterAtStartIsAnError() throws {
        let key = try keyFile("secret")
        defer { try? FileManager.default.removeItem(atPath: key) }
        let result = try cli.lockstep(["node", "--vm", "v", "--key-file", key, "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0",
                                       "--peer", "127.0.0.1:1", "--peer", "127.0.0.1:2", "--arbiter", "127.0.0.1:1"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("127.0.0.1:1"), "\(result.stderr)")
    }
}
