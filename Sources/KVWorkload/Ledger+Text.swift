extension Ledger {
    /// The first line of a ledger's text form.
    static let header = "lockstep-kv ledger v1"

    /// The ledger as text, to keep it in a file between processes: a header line, `writes <n>`,
    /// then `ack <key> <value>` for every acknowledged value and `unknown <key> <value>` for every
    /// write whose outcome is unknown, sorted by key.
    public var text: String {
        var lines = [Self.header, "writes \(acknowledgedWrites)"]
        for key in values.keys.sorted() { lines.append("ack \(key) \(values[key]!)") }
        for key in unacknowledged.keys.sorted() {
            for value in unacknowledged[key]! { lines.append("unknown \(key) \(value)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads a ledger back from ``text``.
    public init(text: String) throws(KVError) {
        self.init()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.first == Substring(Self.header) else { throw .invalidLedger("it does not start with '\(Self.header)'") }
        var writes: Int?
        for (number, line) in lines.enumerated().dropFirst() {
            let fields = line.split(separator: " ")
            switch (fields.first, fields.count) {
            case ("writes", 2):
                writes = Int(fields[1])
            case ("ack", 3):
                acknowledged(key: String(fields[1]), value: String(fields[2]))
            case ("unknown", 3):
                willWrite(key: String(fields[1]), value: String(fields[2]))
            default:
                throw .invalidLedger("line \(number + 1) is not 'writes N', 'ack KEY VALUE' or 'unknown KEY VALUE': \(line)")
            }
        }
        guard let writes, writes >= acknowledgedWrites else { throw .invalidLedger("no valid 'writes N' line") }
        acknowledgedWrites = writes
    }
}
