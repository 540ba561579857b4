import Foundation
@testable import Machine
import Testing

/// The snapshot fuzz target's seed corpus and past findings (fuzz/Snapshot), replayed on every
/// test run: each file is read by SnapshotInfo and restored onto a machine of its configuration
/// (without a disk, with the harness's 16-sector disk, with it and a 32-sector one); every refusal is a SnapshotError that leaves
/// the machine as it was, and the seed snapshots restore.
@Suite struct SnapshotFuzzCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz/Snapshot")

    @Test func corpusAndRegressionsRestoreOrThrowTypedErrors() throws {
        var restored = 0
        for sub in ["corpus", "regressions"] {
            let dir = Self.directory.appendingPathComponent(sub)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).filter({ !$0.hasPrefix(".") }).sorted() {
                let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
                guard let info = try? SnapshotInfo(bytes), info.configuration.memorySize <= 4 << 20 else { continue }
                var success = false
                for disks in 0...2 {
                    guard let machine = try? Machine(configuration: info.configuration,
                                                     disks: (0..<disks).map { MemoryBlockStorage(sectorCount: 16 << $0) }) else { break }
                    let before = machine.stateHash()
                    do throws(SnapshotError) {
                        try machine.restoreSnapshot(bytes)
                        #expect(machine.instructionCount == info.instructionCount, "\(sub)/\(name)")
                        success = true
                        break
                    } catch {
                        #expect(machine.stateHash() == before, "\(sub)/\(name): refused (\(error)) but changed the machine")
                    }
                }
                if success { restored += 1 }
                if sub == "corpus" && name.hasPrefix("full-") { #expect(success, "seed \(name) does not restore") }
            }
        }
        #expect(restored >= 3, "too few snapshots restored from \(Self.directory.path)")
    }
}
