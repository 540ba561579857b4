import Foundation
@testable import Pool
import Testing

/// What an agent reads from its node's log.
struct NodeSupervisorTests {
    /// A supervisor reading a new log, and a way to append a line to that log.
    static func supervisor() throws -> (NodeSupervisor, append: (String) throws -> Void, log: URL) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-supervisor-\(UUID().uuidString).log")
        try Data().write(to: log)
        let supervisor = NodeSupervisor(vm: "r1", logURL: log, statusURL: log.appendingPathExtension("status.json"))
        return (supervisor, { line in
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            try handle.close()
        }, log)
    }

    /// A switchover that the node abandoned (its backup too far behind to catch up in the pause)
    /// or refused is reported once, so that the agent asks again while the request stands; a
    /// handover is not such an end.
    @Test func anUnfinishedSwitchoverIsReportedOnce() throws {
        let (supervisor, append, log) = try Self.supervisor()
        defer { try? FileManager.default.removeItem(at: log) }
        try append("lockstep node h1: switchover: guest stopped at instruction 178068684 (the backup 19192529 behind); waiting for it to execute and acknowledge everything")
        try append("lockstep node h1: switchover abandoned: the backup did not catch up within 2 s; the guest runs on")
        supervisor.refresh()
        #expect(supervisor.takeUnfinishedSwitchover()?.contains("did not catch up") == true)
        #expect(supervisor.takeUnfinishedSwitchover() == nil)
        try append("lockstep node h1: switchover refused: no backup in step (the VM is not protected now)")
        supervisor.refresh()
        #expect(supervisor.takeUnfinishedSwitchover() != nil)
        try append("lockstep node h1: switchover: handed over at instruction 178068684 after 12 ms; this node releases nothing more")
        supervisor.refresh()
        #expect(supervisor.takeUnfinishedSwitchover() == nil)
    }

    /// A primary's refusal that only a full copy overcomes makes the agent start the node with
    /// `--resync full`, until it is a backup; a disk newer than the primary's does not.
    @Test func aRefusalThatOnlyAFullCopyOvercomesIsRemembered() throws {
        let (supervisor, appendLine, log) = try Self.supervisor()
        defer { try? FileManager.default.removeItem(at: log) }
        func append(_ line: String) throws {
            try appendLine(line)
            supervisor.refresh()
        }
        #expect(!supervisor.needsFullResync)
        try append("lockstep: the primary's record does not reach back to generation 2 (it keeps 32 generations, or its own host went down while it ran); to overwrite the backup's disk with the primary's, restart the backup with --resync full")
        #expect(supervisor.needsFullResync)
        try append("lockstep node ha: backup of VM 'r1' at generation 5, from instruction 6600000")
        #expect(!supervisor.needsFullResync)
        try append("lockstep: the backup's disk is newer (generation 7) than the primary's (generation 6): it may hold writes the primary lacks; find out why (two primaries?) before resyncing it; to overwrite the backup's disk with the primary's, restart the backup with --resync full")
        #expect(!supervisor.needsFullResync)
    }

    func supervisor(reading lines: [String]) throws -> NodeSupervisor {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("supervisor-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let supervisor = NodeSupervisor(vm: "vm1", logURL: url, statusURL: url.appendingPathExtension("status.json"))
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
        for reason in ["the backup's disk is newer (generation 7) than the primary's (generation 5): it may hold writes the primary lacks; find out why (two primaries?) before resyncing it"] {
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
