/// A network card's MAC address as people write it: six pairs of hex digits separated by ':'
/// (`52:54:00:12:34:56`). ``parse(_:)`` takes only what a network card may have: not a
/// multicast address (the lowest bit of the first byte set) and not all zero.
public enum MACAddress {
    /// What the messages suggest: a locally administered address (the `02` bit of the first
    /// byte), which no vendor hands out.
    public static let example = "02:00:00:aa:bb:cc"

    /// The six bytes of `text`, or why it is not a MAC address a network card may have.
    public static func parse(_ text: String) throws(MACAddressError) -> [UInt8] {
        let pairs = text.split(separator: ":", omittingEmptySubsequences: false)
        guard pairs.count == 6 else { throw .malformed(text) }
        var bytes: [UInt8] = []
        for pair in pairs {
            guard pair.utf8.count == 2, pair.allSatisfy(\.isHexDigit), let byte = UInt8(pair, radix: 16) else {
                throw .malformed(text)
            }
            bytes.append(byte)
        }
        if isMulticast(bytes) { throw .multicast(text) }
        if bytes.allSatisfy({ $0 == 0 }) { throw .allZero }
        return bytes
    }

    /// `bytes` as people write it: lowercase hex pairs separated by ':'.
    public static func format(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    /// Whether the address names a group (the I/G bit, the lowest of the first byte).
    public static func isMulticast(_ bytes: [UInt8]) -> Bool {
        bytes.first.map { $0 & 1 != 0 } ?? false
    }

    /// Whether the address is locally administered (the U/L bit, `02` of the first byte): chosen
    /// by whoever runs the network rather than assigned by a vendor.
    public static func isLocallyAdministered(_ bytes: [UInt8]) -> Bool {
        bytes.first.map { $0 & 2 != 0 } ?? false
    }
}

/// Why a text is not a MAC address a network card may have.
public enum MACAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not six pairs of hex digits separated by ':'.
    case malformed(String)
    /// A multicast (group) address: the lowest bit of the first byte is set.
    case multicast(String)
    /// 00:00:00:00:00:00.
    case allZero

    public var description: String {
        switch self {
        case .malformed(let text):
            return "'\(text)' is not a MAC address: write six pairs of hex digits separated by ':', e.g. \(MACAddress.example)"
        case .multicast(let text):
            return "\(text) is a multicast address (the lowest bit of its first byte is set), which no network card may have: "
                + "give a unicast one, e.g. \(MACAddress.example) (locally administered: the first byte's second bit set, its lowest clear)"
        case .allZero:
            return "00:00:00:00:00:00 is no network card's address: give a unicast one, e.g. \(MACAddress.example)"
        }
    }
}
