import Foundation
@testable import Pool
import Testing

/// What the agent reads from a node's log: its role, and whether a refused join needs a full copy.
struct NodeSupervisorTests {
    func supervisor(reading lines: [String]) throws -> NodeSupervisor {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("supervisor-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let supervisor = NodeSupervisor(vm: "vm1", logURL: url)
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: url)
        supervisor.refresh()
        try? FileManager.default.removeItem(at: url)
        return supervisor
    }

    // The node's own refusal texts (Sources/Replication/ResyncPlan.swift), as a joining node logs them.
    static let fullAsk = "; to overwrite the backup's disk with the primary's, restart the backup with --resync full"

    @Test func aCopyTheRecordsCannotBridgeIsCopiedWhole() throws {
        for reason in ["the primary's record does not reach back to generation 2 (it keeps 32 generations, or its own host went down while it ran)",
                       "the backup's host went down while its disk was in use, so its record of written extents may be incomplete",
                       "the backup's record does not match the primary's layout"] {
            let supervisor = try supervisor(reading: ["lockstep node h2: line 1 up to primary 'h3'",
                                                      "lockstep node h2: line 1 refused: " + reason + Self.fullAsk])
            #expect(supervisor.needsFullResync, "\(reason)")
        }
    }

    @Test func aCopyThatMayHoldWritesThePrimaryLacksIsNeverOverwritten() throws {
        for reason in ["the backup's disk is newer (generation 7) than the primary's (generation 5): it may hold writes the primary lacks; find out why (two primaries?) before resyncing it",
                       "the backup's disk belongs to another instance of VM 'vm1' (a disk from before the VM was started anew, or a copy of another VM's)"] {
            let supervisor = try supervisor(reading: ["lockstep node h2: line 1 refused: " + reason + Self.fullAsk])
            #expect(!supervisor.needsFullResync, "\(reason)")
            #expect(supervisor.detail.contains("refused"))
        }
    }

    @Test func aJoinThatSucceedsClearsTheNeed() throws {
        let supervisor = try supervisor(reading: [
            "lockstep node h2: line 1 refused: the backup's record does not match the primary's layout" + Self.fullAsk,
            "lockstep node h2: backup of VM 'vm1' at generation 5, in step",
        ])
        #expect(!supervisor.needsFullResync)
    }

    @Test func theLostPeerIsNamedUntilALineToItIsUpAgain() throws {
        let primary = try supervisor(reading: ["lockstep node h1: line 1 up to backup 'h2'",
                                               "lockstep node h1: backup lost: every line silent for more than 400 ms (backup 'h2')"])
        #expect(primary.lostPeer == "h2")
        let backup = try supervisor(reading: ["lockstep node h2: primary lost: every line silent for more than 400 ms (primary 'h1')"])
        #expect(backup.lostPeer == "h1")
        let back = try supervisor(reading: ["lockstep node h1: backup lost: every line silent for more than 400 ms (backup 'h2')",
                                            "lockstep node h1: line 2 up to backup 'h3'"])
        #expect(back.lostPeer == "h2", "another host's backup says nothing about h2")
        let again = try supervisor(reading: ["lockstep node h1: backup lost: every line silent for more than 400 ms (backup 'h2')",
                                             "lockstep node h1: line 1 up to backup 'h2'"])
        #expect(again.lostPeer == nil)
    }
}
