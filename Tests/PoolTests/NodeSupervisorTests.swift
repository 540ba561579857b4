import Foundation
@testable import Pool
import Testing

/// What an agent reads from its node's log.
struct NodeSupervisorTests {
    /// A switchover that the node abandoned (its backup too far behind to catch up in the pause)
    /// or refused is reported once, so that the agent asks again while the request stands; a
    /// handover is not such an end.
    @Test func anUnfinishedSwitchoverIsReportedOnce() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-supervisor-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        try Data().write(to: log)
        let supervisor = NodeSupervisor(vm: "r1", logURL: log)
        func append(_ line: String) throws {
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            try handle.close()
        }
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
}
