/// How ``NetworkLab/cutLine(_:mode:)`` cuts a line.
public enum LineCut: Sendable, CaseIterable {
    /// Both hosts keep their links up, but each sends the line's IPv4 traffic to a MAC address
    /// that nothing has (a permanent neighbour entry), so every packet is dropped silently: TCP
    /// sees silence, as with a cable cut behind a switch or a black-holing switch. Needs no
    /// kernel module.
    case silent
    /// Both ends are set administratively down: the kernel drops the line's routes, so sending
    /// fails at once with "network is unreachable", as when a host takes its NIC down.
    case linkDown
}
