import Foundation

/// The end of a log file, for failure reports that must stay readable in CI's output.
enum LogTail {
    /// The last `count` lines of the file at `url` (all of it when shorter; empty when unreadable).
    static func lastLines(of url: URL, _ count: Int) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        guard count < .max else { return text }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > count else { return text }
        return "[\(lines.count - count) earlier lines left out]\n" + lines.suffix(count).joined(separator: "\n")
    }
}
