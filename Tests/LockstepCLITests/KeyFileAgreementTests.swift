import Arbitration
import Foundation
@testable import LockstepCLI
import LockstepSupport
import Testing

/// `lockstep node` and `lockstep arbiter` read key files by one rule: a key file ending in two
/// newlines (or CRLF, or none) is the same key to both, so they authenticate each other.
@Suite struct KeyFileAgreementTests {
    func keyFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-key-\(UUID().uuidString)").path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Serves with the arbiter's reading of `serverFile` and claims with the node's reading of
    /// `nodeFile` (what `lockstep node --arbiter` does).
    func claim(serverFile: String, nodeFile: String) async throws -> ArbitrationOutcome {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-state-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let server = try await ArbiterServer.start(listeningOn: Endpoint(host: "127.0.0.1", port: 0), statePath: state,
                                                   key: try SharedKey(contentsOfFile: serverFile), log: { _ in })
        do {
            let node = try makeRemoteArbiter(server.address, key: try KeyFile.read(path: nodeFile))
            let outcome = try await node.claim(vm: "vm", expectedGeneration: 0, owner: "node-a")
            await server.stop()
            return outcome
        } catch {
            await server.stop()
            throw error
        }
    }

    @Test func aKeyFileEndingInTwoNewlinesIsTheSameKeyToTheNodeAndTheArbiter() async throws {
        let twoNewlines = try keyFile("the cluster's secret\n\n")
        let bare = try keyFile("the cluster's secret")
        let crlf = try keyFile("the cluster's secret\r\n")
        defer { for path in [twoNewlines, bare, crlf] { try? FileManager.default.removeItem(atPath: path) } }

        // Both readers accept it, and the node's reading is the bare secret.
        #expect(try KeyFile.read(path: twoNewlines) == Array("the cluster's secret".utf8))
        _ = try SharedKey(contentsOfFile: twoNewlines)

        // Files that differ only in trailing line ends authenticate, in either direction.
        #expect(try await claim(serverFile: twoNewlines, nodeFile: bare) == .won(generation: 1))
        #expect(try await claim(serverFile: bare, nodeFile: twoNewlines) == .won(generation: 1))
        #expect(try await claim(serverFile: crlf, nodeFile: twoNewlines) == .won(generation: 1))
    }

    @Test func anotherKeyIsStillRefused() async throws {
        let ours = try keyFile("the cluster's secret\n\n")
        let theirs = try keyFile("the cluster's secret \n")
        defer { for path in [ours, theirs] { try? FileManager.default.removeItem(atPath: path) } }
        await #expect(throws: ArbitrationError.self) { try await claim(serverFile: ours, nodeFile: theirs) }
    }
}
