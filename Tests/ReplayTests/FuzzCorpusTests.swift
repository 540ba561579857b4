import Foundation
import Machine
import Testing
@testable import Replay

/// The event-log fuzz target's seed corpus and past findings (fuzz/EventLog), replayed on every
/// test run: each input reads or throws an EventLogError, and what reads survives a round trip.
@Suite struct EventLogFuzzCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz/EventLog")

    static func inputs() throws -> [(name: String, bytes: [UInt8])] {
        try ["corpus", "regressions"].flatMap { sub -> [(name: String, bytes: [UInt8])] in
            let dir = directory.appendingPathComponent(sub)
            return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted().map {
                ("\(sub)/\($0)", [UInt8](try Data(contentsOf: dir.appendingPathComponent($0))))
            }
        }
    }

    @Test func corpusAndRegressionsReadOrThrowTypedErrors() throws {
        let inputs = try Self.inputs()
        #expect(inputs.contains { $0.name.hasPrefix("corpus/log-") }, "no seed logs in \(Self.directory.path)")
        for (name, bytes) in inputs {
            if let log = try? EventLog(bytes: bytes) {
                #expect(try EventLog(bytes: log.encoded()) == log, "\(name)")
            }
            if let record = try? LogRecord(encoded: bytes) {
                #expect(try LogRecord(encoded: record.encoded) == record, "\(name)")
            }
            if name.hasPrefix("corpus/log-") && !name.contains("cut") {
                #expect(throws: Never.self, "\(name)") { _ = try EventLog(bytes: bytes) }
            }
        }
    }
}
