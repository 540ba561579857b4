/// The host side of the machine's network card as `--netdev` gives it, in QEMU's spelling:
///
/// - `user[,id=ID][,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...`: libslirp's
///   user-mode stack (``SlirpNetwork``), the network 10.0.2.0/24 with the guest at 10.0.2.15, the
///   gateway at 10.0.2.2 and DNS at 10.0.2.3, as QEMU's default; any number of `hostfwd`s
///   (``HostForward``).
/// - `tap,ifname=NAME[,id=ID]`: the TAP device NAME (``TapNetwork``), an existing persistent one or
///   a new one.
/// - `bridge,br=BRIDGE[,ifname=NAME][,id=ID]`: a new TAP device attached to the bridge BRIDGE;
///   without `ifname` its name is ``defaultTapName(processID:)``.
/// - `none`: no network backend.
///
/// Parsing is pure: nothing on the host is looked at until a backend is made from the result
/// (``makeNetworkBackend(_:)``). Commas cannot be escaped (QEMU's `,,`): no option here takes a
/// value with a comma.
public struct NetdevConfiguration: Hashable, Sendable, CustomStringConvertible {
    /// Which backend, with its own options.
    public enum Backend: Hashable, Sendable {
        /// No network backend.
        case none
        /// libslirp's user-mode stack with these port forwards.
        case user(forwards: [HostForward])
        /// The TAP device of this name.
        case tap(interfaceName: String)
        /// A TAP device attached to a bridge; nil: ``NetdevConfiguration/defaultTapName(processID:)``.
        case bridge(bridge: String, interfaceName: String?)
    }

    /// Which backend.
    public var backend: Backend
    /// The `id=` given (QEMU requires one to connect the netdev to a device; here it only names
    /// the backend in logs).
    public var id: String?

    /// The longest interface name Linux takes, in bytes (IFNAMSIZ less its terminating NUL).
    public static let maximumInterfaceNameLength = 15

    /// A backend as given.
    public init(backend: Backend, id: String? = nil) {
        self.backend = backend
        self.id = id
    }

    /// Parses a `--netdev` value.
    ///
    /// - Throws: ``NetworkBackendError/invalidOption(_:reason:)`` naming the part at fault: an
    ///   unknown kind, an option the kind does not take or takes once, a missing `ifname` or `br`,
    ///   a malformed `hostfwd`, an invalid `id` or interface name.
    public init(parsing value: String) throws(NetworkBackendError) {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        let kind = String(parts[0])
        let options = parts.dropFirst()
        let accepted: [String]
        switch kind {
        case "user": accepted = ["id", "hostfwd"]
        case "tap": accepted = ["id", "ifname"]
        case "bridge": accepted = ["id", "br", "ifname"]
        case "none": accepted = []
        case "":
            throw .invalidOption(value, reason: "no backend named; start the value with user, tap, bridge or none (for example --netdev user,hostfwd=tcp:127.0.0.1:8080-:80)")
        default:
            throw .invalidOption(kind, reason: "unknown kind of backend; use user, tap, bridge or none")
        }

        var id: String?
        var interfaceName: String?
        var bridge: String?
        var forwards: [HostForward] = []
        for option in options {
            guard !option.isEmpty else {
                throw .invalidOption(value, reason: "empty option (two commas in a row, or a comma at the end); remove it")
            }
            guard let equals = option.firstIndex(of: "=") else {
                throw .invalidOption(String(option), reason: "not KEY=VALUE; \(Self.takes(kind, accepted))")
            }
            let key = String(option[..<equals])
            let optionValue = String(option[option.index(after: equals)...])
            guard accepted.contains(key) else {
                throw .invalidOption(String(option), reason: "unknown option '\(key)'; \(Self.takes(kind, accepted))")
            }
            func once(_ current: String?) throws(NetworkBackendError) {
                if current != nil {
                    throw .invalidOption(String(option), reason: "\(key) is given twice; give it once")
                }
            }
            switch key {
            case "id":
                try once(id)
                try Self.checkIdentifier(optionValue, option: String(option))
                id = optionValue
            case "ifname":
                try once(interfaceName)
                try Self.checkInterfaceName(optionValue, option: String(option))
                interfaceName = optionValue
            case "br":
                try once(bridge)
                try Self.checkInterfaceName(optionValue, option: String(option))
                bridge = optionValue
            default:  // hostfwd
                forwards.append(try HostForward(parsing: optionValue))
            }
        }

        switch kind {
        case "user":
            backend = .user(forwards: forwards)
        case "tap":
            guard let interfaceName else {
                throw .invalidOption(value, reason: "tap needs ifname=NAME, the TAP device to use or create (for example tap,ifname=lstap0)")
            }
            backend = .tap(interfaceName: interfaceName)
        case "bridge":
            guard let bridge else {
                throw .invalidOption(value, reason: "bridge needs br=BRIDGE, the bridge to attach a new TAP device to (for example bridge,br=br0)")
            }
            backend = .bridge(bridge: bridge, interfaceName: interfaceName)
        default:
            backend = .none
        }
        self.id = id
    }

    /// The name of the TAP device `bridge,br=BRIDGE` creates without `ifname`: `lstap` and the
    /// process id, cut to ``maximumInterfaceNameLength`` (never needed for Linux's 22-bit pids).
    public static func defaultTapName(processID: Int32) -> String {
        String("lstap\(processID)".prefix(maximumInterfaceNameLength))
    }

    /// The value as `--netdev` takes it back (options in a fixed order).
    public var description: String {
        var parts: [String]
        switch backend {
        case .none: parts = ["none"]
        case .user(let forwards): parts = ["user"] + forwards.map { "hostfwd=\($0)" }
        case .tap(let name): parts = ["tap", "ifname=\(name)"]
        case .bridge(let bridge, let name): parts = ["bridge", "br=\(bridge)"] + (name.map { ["ifname=\($0)"] } ?? [])
        }
        if let id { parts.insert("id=\(id)", at: 1) }
        return parts.joined(separator: ",")
    }

    /// Whether `name` is a name Linux takes for an interface: 1 to 15 bytes, not `.` or `..`, no
    /// `/`, `:` or white space (the kernel's `dev_valid_name`), and no `%` (which TUNSETIFF would
    /// replace by a number, so the device would not have the name asked for).
    public static func isValidInterfaceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumInterfaceNameLength, name != ".", name != ".." else { return false }
        return !bytes.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "%") || $0 <= 0x20 || $0 == 0x7f }
    }

    private static func checkInterfaceName(_ name: String, option: String) throws(NetworkBackendError) {
        let length = name.utf8.count
        if length == 0 {
            throw .invalidOption(option, reason: "empty interface name; give a name of 1 to 15 bytes")
        }
        if length > maximumInterfaceNameLength {
            throw .invalidOption(option, reason: "interface name '\(name)' is \(length) bytes long, Linux takes at most 15; give a shorter name")
        }
        guard isValidInterfaceName(name) else {
            throw .invalidOption(option, reason: "interface name '\(name)' is not one Linux takes (no '/', ':', '%', white space, and not '.' or '..'); give another name")
        }
    }

    /// QEMU's rule for ids: a letter, then letters, digits, '-', '.' and '_'.
    private static func checkIdentifier(_ id: String, option: String) throws(NetworkBackendError) {
        let bytes = Array(id.utf8)
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard let first = bytes.first, isLetter(first),
              bytes.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }) else {
            throw .invalidOption(option, reason: "an id starts with a letter and has only letters, digits, '-', '.' and '_' (for example id=net0)")
        }
    }

    /// "KIND takes: ..." for error messages.
    private static func takes(_ kind: String, _ accepted: [String]) -> String {
        if accepted.isEmpty { return "\(kind) takes no options" }
        let examples = accepted.map { key -> String in
            switch key {
            case "hostfwd": return "hostfwd=\(HostForward.spelling.dropFirst("hostfwd=".count).prefix { $0 != " " })"
            case "ifname": return "ifname=NAME"
            case "br": return "br=BRIDGE"
            default: return "id=ID"
            }
        }
        return "\(kind) takes \(examples.joined(separator: ", "))"
    }
}
