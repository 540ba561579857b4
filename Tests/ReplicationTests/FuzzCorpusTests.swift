import Foundation
@testable import Replication
import Testing

/// The logging-channel fuzz target's seed corpus and past findings (fuzz/Replication), replayed on
/// every test run: every frame decodes, needs more bytes or throws a ReplicationError, and a
/// decoded message encodes to exactly the bytes it came from.
@Suite struct ReplicationFuzzCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz/Replication")

    @Test func corpusAndRegressionsDecodeCanonicallyOrThrowTypedErrors() throws {
        var frames = 0
        for sub in ["corpus", "regressions"] {
            let dir = Self.directory.appendingPathComponent(sub)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).filter({ !$0.hasPrefix(".") }).sorted() {
                var stream = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
                while let (message, size) = try? ReplicationFrameCodec.decodeFrame(stream) {
                    #expect(ReplicationFrameCodec.frame(message) == Array(stream[..<size]), "\(sub)/\(name): \(message)")
                    stream.removeFirst(size)
                    frames += 1
                }
            }
        }
        #expect(frames >= 9, "too few frames in the corpus at \(Self.directory.path)")
    }
}
