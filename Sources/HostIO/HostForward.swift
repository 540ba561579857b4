/// One port forward of `--netdev user` from the host into the guest, spelled as QEMU spells it:
/// `hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT`.
///
/// - An empty or absent protocol is `tcp`, as in QEMU.
/// - An empty host address is every address of the host (0.0.0.0, QEMU's INADDR_ANY), so
///   `hostfwd=tcp::8080-:80` is reachable from other machines; write `127.0.0.1` to keep it local.
/// - An empty guest address is the guest's own address (10.0.2.15, libslirp's first DHCP
///   address), as in QEMU.
///
/// Two differences from QEMU, both stricter: addresses are dotted quads (QEMU's `inet_aton` also
/// takes forms such as `127.1`), and ports are decimal and from 1 (QEMU also reads hexadecimal and
/// octal, and takes host port 0, for which libslirp picks a port it cannot report).
public struct HostForward: Hashable, Sendable, CustomStringConvertible {
    /// The transport forwarded.
    public enum Transport: String, Sendable {
        case tcp, udp
    }

    /// TCP or UDP.
    public var transport: Transport
    /// The host address listened on, a dotted quad; 0.0.0.0 is every address of the host.
    public var hostAddress: String
    /// The host port listened on (1-65535).
    public var hostPort: UInt16
    /// The guest address connected to, a dotted quad; nil: the guest's own address (10.0.2.15).
    public var guestAddress: String?
    /// The guest port connected to (1-65535).
    public var guestPort: UInt16

    /// How a `hostfwd` is written, for error messages.
    static let spelling = "hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (for example hostfwd=tcp:127.0.0.1:8080-:80)"

    /// A forward from `hostAddress:hostPort` to `guestAddress:guestPort`. The addresses must be
    /// dotted quads (not checked here; ``init(parsing:)`` checks them).
    public init(transport: Transport = .tcp, hostAddress: String = "0.0.0.0", hostPort: UInt16,
                guestAddress: String? = nil, guestPort: UInt16) {
        self.transport = transport
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.guestAddress = guestAddress
        self.guestPort = guestPort
    }

    /// Parses the value of one `hostfwd=` option (what follows the `=`), checking each part in
    /// the order QEMU's `slirp_hostfwd` does.
    ///
    /// - Throws: ``NetworkBackendError/invalidOption(_:reason:)`` naming `hostfwd=VALUE` and the
    ///   part at fault.
    public init(parsing value: String) throws(NetworkBackendError) {
        func invalid(_ reason: String) -> NetworkBackendError {
            .invalidOption("hostfwd=\(value)", reason: "\(reason); write \(Self.spelling)")
        }
        var rest = Substring(value)

        guard let transportText = Self.take(&rest, upTo: ":") else {
            throw invalid("no ':' after the protocol")
        }
        switch transportText {
        case "", "tcp": transport = .tcp
        case "udp": transport = .udp
        default: throw invalid("unknown protocol '\(transportText)' (tcp or udp)")
        }

        guard let hostAddressText = Self.take(&rest, upTo: ":") else {
            throw invalid("no ':' between the host address and the host port")
        }
        if hostAddressText.isEmpty {
            hostAddress = "0.0.0.0"
        } else if let address = Self.dottedQuad(hostAddressText) {
            hostAddress = address
        } else {
            throw invalid("bad host address '\(hostAddressText)' (a dotted quad such as 127.0.0.1, or empty for every address)")
        }

        guard let hostPortText = Self.take(&rest, upTo: "-") else {
            throw invalid("no '-' between the host port and the guest part")
        }
        guard let hostPort = Self.port(hostPortText) else {
            throw invalid("bad host port '\(hostPortText)' (1-65535)")
        }
        self.hostPort = hostPort

        guard let guestAddressText = Self.take(&rest, upTo: ":") else {
            throw invalid("no ':' before the guest port")
        }
        if guestAddressText.isEmpty {
            guestAddress = nil
        } else if let address = Self.dottedQuad(guestAddressText) {
            guestAddress = address
        } else {
            throw invalid("bad guest address '\(guestAddressText)' (a dotted quad such as 10.0.2.15, or empty for the guest's own)")
        }

        guard let guestPort = Self.port(rest) else {
            throw invalid("bad guest port '\(rest)' (1-65535)")
        }
        self.guestPort = guestPort
    }

    /// The forward as `--netdev user` takes it back: `tcp:127.0.0.1:8080-:80`.
    public var description: String {
        "\(transport.rawValue):\(hostAddress):\(hostPort)-\(guestAddress ?? ""):\(guestPort)"
    }

    /// The text before the first `separator`, removed from `text` together with the separator;
    /// nil (and `text` unchanged) when there is no separator.
    private static func take(_ text: inout Substring, upTo separator: Character) -> Substring? {
        guard let index = text.firstIndex(of: separator) else { return nil }
        let part = text[..<index]
        text = text[text.index(after: index)...]
        return part
    }

    /// A decimal port from 1 to 65535, or nil.
    private static func port(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = UInt16(text), value > 0 else { return nil }
        return value
    }

    /// `text` as a normalised dotted quad (four decimal numbers 0-255, no leading zeros kept), or nil.
    static func dottedQuad(_ text: Substring) -> String? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var numbers: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let number = UInt8(part) else { return nil }
            numbers.append(number)
        }
        return numbers.map(String.init).joined(separator: ".")
    }
}
