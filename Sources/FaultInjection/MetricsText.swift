/// Prometheus's text exposition (an agent's `/metrics`), parsed: each sample's name, labels and
/// value, so that tests check figures rather than substrings.
public struct MetricsText: Sendable {
    public struct Sample: Equatable, Sendable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public let samples: [Sample]

    /// Parses `text`; comment lines (`# HELP`, `# TYPE`) and lines that are not samples are skipped.
    public init(_ text: String) {
        samples = text.split(separator: "\n").compactMap(Self.sample)
    }

    /// The samples named `name` whose labels include `labels`.
    public func samples(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// The value of the one sample named `name` with `labels` (nil: none, or more than one).
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let found = samples(name, labels)
        return found.count == 1 ? found[0].value : nil
    }

    static func sample(_ line: Substring) -> Sample? {
        guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        var labels: [String: String] = [:]
        var rest = series[series.index(after: brace)...]
        while let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" {
            let key = rest[..<equals].trimmingPrefix(",")
            var text = ""
            var index = rest.index(equals, offsetBy: 2)
            var escaped = false
            while index < rest.endIndex {
                let character = rest[index]
                index = rest.index(after: index)
                if escaped { text.append(character == "n" ? "\n" : character); escaped = false }
                else if character == "\\" { escaped = true }
                else if character == "\"" { break }
                else { text.append(character) }
            }
            labels[String(key)] = text
            rest = rest[index...]
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }
}
