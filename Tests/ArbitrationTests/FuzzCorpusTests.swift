import Foundation
@testable import Arbitration
import Testing

/// The arbiter fuzz targets' seed corpora and past findings (fuzz/Arbiter, fuzz/StateFile), replayed
/// on every test run with the harnesses' stand-in MAC and checksum (32 zero bytes).
@Suite struct ArbitrationFuzzCorpusTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz")
    static let zero = [UInt8](repeating: 0, count: 32)

    static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        try ["corpus", "regressions"].flatMap { sub -> [(name: String, bytes: [UInt8])] in
            let dir = fuzz.appendingPathComponent("\(target)/\(sub)")
            return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted().map {
                ("\(target)/\(sub)/\($0)", [UInt8](try Data(contentsOf: dir.appendingPathComponent($0))))
            }
        }
    }

    @Test func wireMessagesDecodeCanonicallyOrThrowTypedErrors() throws {
        var messages = 0
        for (name, var stream) in try Self.inputs("Arbiter") {
            while let range = try? stream.withUnsafeBytes({ raw throws(Framing.BadLength) in try Framing.firstMessage(in: raw) }) {
                let bytes = Array(stream[range])
                if let message = try? WireMessage.decode(bytes, verify: { _, mac in mac == Self.zero }) {
                    #expect(message.encoded(signedBy: { _ in Self.zero }) == bytes, "\(name): \(message)")
                    messages += 1
                }
                stream.removeFirst(range.upperBound)
            }
        }
        #expect(messages >= 10, "too few messages in the corpus at \(Self.fuzz.path)/Arbiter")
    }

    @Test func stateFilesReadOrThrowTypedErrors() throws {
        var tables = 0
        for (name, bytes) in try Self.inputs("StateFile") {
            do {
                let table = try StateFileFormat.decode(bytes, path: name) { _ in Self.zero }
                let again = StateFileFormat.encode(table) { _ in Self.zero }
                #expect(try StateFileFormat.decode(again, path: name) { _ in Self.zero } == table, "\(name)")
                tables += 1
            } catch {
                guard case .corruptStateFile = error else { Issue.record("\(name): \(error)"); continue }
            }
        }
        #expect(tables >= 4, "too few tables in the corpus at \(Self.fuzz.path)/StateFile")
    }
}
