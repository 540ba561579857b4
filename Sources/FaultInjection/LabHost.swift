/// One of the two hosts of a ``NetworkLab``, each running a `lockstep node`.
public enum LabHost: Int, CaseIterable, Sendable, CustomStringConvertible {
    case a = 0
    case b = 1

    /// The host's namespace.
    public var namespace: LabNamespace { self == .a ? .hostA : .hostB }

    /// The other host.
    public var peer: LabHost { self == .a ? .b : .a }

    /// `a` or `b`: the start of the host's ports' names in the switch (`a-lan`, `a-mgmt`).
    public var description: String { self == .a ? "a" : "b" }
}
