import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler that writes one logfmt line per record to standard error:
/// `ts=2026-12-06T22:04:30.123Z level=info label=node node=A vm=kv msg="..."`: the time (UTC,
/// milliseconds), the level, the logger's label, its metadata and the record's (sorted by key),
/// then the message. Values with spaces, quotes, `=` or nothing in them are quoted, with `\`,
/// `"` and line breaks escaped; the message is always quoted. The `lockstep` executable
/// bootstraps it for every command (docs/pool.md, "Logs").
public struct LogfmtLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let write: @Sendable (String) -> Void

    /// A handler for `label` whose lines go to `write` (default: standard error, one `write`
    /// system call per line, so that lines of several threads do not interleave).
    public init(label: String, write: @escaping @Sendable (String) -> Void = LogfmtLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let more = event.metadata { all.merge(more) { _, new in new } }
        write(Self.line(time: Date(), level: event.level, label: label, metadata: all, message: "\(event.message)") + "\n")
    }

    /// One record as a logfmt line (without the line break).
    public static func line(time: Date, level: Logger.Level, label: String, metadata: Logger.Metadata, message: String) -> String {
        var fields = ["ts=\(timestamp(time))", "level=\(level.rawValue)", "label=\(value(label))"]
        for key in metadata.keys.sorted() { fields.append("\(key)=\(value("\(metadata[key]!)"))") }
        fields.append("msg=\(quoted(message))")
        return fields.joined(separator: " ")
    }

    /// `text` as a logfmt value: bare when it can be, quoted otherwise.
    static func value(_ text: String) -> String {
        let bare = !text.isEmpty && !text.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.isNewline }
        return bare ? text : quoted(text)
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.append(character)
            }
        }
        return out + "\""
    }

    /// The message of a log line: the unquoted value of `msg=` in a logfmt line, the line itself
    /// otherwise (for readers of node logs, which wait for the messages).
    public static func message(of line: some StringProtocol) -> String {
        guard let range = line.range(of: " msg=\"") else { return String(line) }
        var text = ""
        var escaped = false
        for character in line[range.upperBound...] {
            if escaped {
                switch character {
                case "n": text.append("\n")
                case "r": text.append("\r")
                case "t": text.append("\t")
                default: text.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                break
            } else {
                text.append(character)
            }
        }
        return text
    }

    /// ISO 8601 in UTC with milliseconds.
    static func timestamp(_ time: Date) -> String {
        let seconds = time.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        let milliseconds = min(999, Int((seconds - seconds.rounded(.down)) * 1000))
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), milliseconds)
    }

    /// Writes `line` to standard error in one system call.
    @Sendable public static func standardError(_ line: String) {
        _ = Array(line.utf8).withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// Makes this handler the process's (``LoggingSystem/bootstrap(_:)``; once per process).
    public static func bootstrap() {
        LoggingSystem.bootstrap { label in LogfmtLogHandler(label: label) }
    }
}
