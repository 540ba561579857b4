import Foundation
import LockstepSupport
import Testing

/// One key-file rule: trailing line ends are not part of the key.
@Suite struct KeyFileTests {
    /// A file with `contents` in a fresh temporary path; removed by `remove`.
    func file(_ contents: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-keyfile-\(UUID().uuidString)").path
        try Data(contents).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func trailingLineEndsAreNotPartOfTheKey() throws {
        for contents in ["secret", "secret\n", "secret\r\n", "secret\n\n", "secret\r\n\r\n", "secret\r"] {
            let path = try file(Array(contents.utf8))
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(try KeyFile.read(path: path) == Array("secret".utf8), "\(contents.debugDescription)")
        }
        // Only trailing ones: the rest of the file is the key, whatever its bytes.
        #expect(try KeyFile.key(from: Array("a\nb \n".utf8), path: "k") == Array("a\nb ".utf8))
        #expect(try KeyFile.key(from: [0, 255, 10], path: "k") == [0, 255])
    }

    @Test func emptyMissingAndOversizedFilesAreRefusedByName() throws {
        let empty = try file(Array("\r\n\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: KeyFileError.empty(path: empty)) { try KeyFile.read(path: empty) }
        #expect(KeyFileError.empty(path: empty).description.contains(empty))
        #expect(KeyFileError.empty(path: empty).description.contains("write the cluster's shared secret"))

        #expect(throws: KeyFileError.unreadable(path: "/nonexistent/key", errno: ENOENT)) { try KeyFile.read(path: "/nonexistent/key") }
        #expect(KeyFileError.unreadable(path: "/nonexistent/key", errno: ENOENT).description.contains("/nonexistent/key"))

        let large = try file([UInt8](repeating: 0x61, count: KeyFile.maximumSize + 1))
        defer { try? FileManager.default.removeItem(atPath: large) }
        #expect(throws: KeyFileError.tooLarge(path: large)) { try KeyFile.read(path: large) }
        let largest = try file([UInt8](repeating: 0x61, count: KeyFile.maximumSize))
        defer { try? FileManager.default.removeItem(atPath: largest) }
        #expect(try KeyFile.read(path: largest).count == KeyFile.maximumSize)
    }
}
