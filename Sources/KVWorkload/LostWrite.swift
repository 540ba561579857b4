/// An acknowledged write that the service no longer holds: the key is missing or has another
/// value (one that was never written after the acknowledged one).
public struct LostWrite: Sendable, Equatable, Codable, CustomStringConvertible {
    public var key: String
    /// The last value acknowledged for the key.
    public var acknowledged: String
    /// What the service holds (nil: nothing).
    public var found: String?

    public init(key: String, acknowledged: String, found: String?) {
        self.key = key
        self.acknowledged = acknowledged
        self.found = found
    }

    public var description: String {
        "\(key): acknowledged \(acknowledged), found \(found ?? "nothing")"
    }
}
