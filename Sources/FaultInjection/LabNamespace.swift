/// The network namespaces of a ``NetworkLab``: each is named `<lab prefix>-<rawValue>`.
public enum LabNamespace: String, CaseIterable, Sendable {
    /// The switch: the guests' LAN bridge `lan` and the management bridge `mgmt`.
    case `switch` = "sw"
    /// Host a and host b: a bridge for the guest, a management port, two line ports.
    case hostA = "a"
    case hostB = "b"
    /// The arbiter's host, on the management network.
    case arbiter = "arb"
    /// A client of the guest, on the LAN.
    case client = "cl"

    /// The namespace of `host`.
    public static func host(_ host: LabHost) -> LabNamespace { host.namespace }
}
