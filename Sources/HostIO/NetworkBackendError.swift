/// Why a network backend could not be configured or started. Every message names the flag
/// (`--netdev`), says what is wrong and what to do.
public enum NetworkBackendError: Error, Equatable, CustomStringConvertible {
    /// The `--netdev` value is malformed: an unknown kind, an unknown, repeated or missing option,
    /// a malformed `hostfwd`, an invalid interface name. The first value is the part at fault.
    case invalidOption(String, reason: String)
    /// A host call failed for a reason none of the other cases covers.
    case systemCall(String, reason: String)
    /// A `hostfwd`'s host port is taken by another socket (the forward as spelled,
    /// `tcp:127.0.0.1:8080-:80`).
    case hostPortInUse(forward: String)
    /// libslirp could not set up a `hostfwd` for another reason (an address this host does not
    /// have, a port below 1024 without privileges).
    case hostForwardFailed(forward: String, reason: String)
    /// The host refused an operation on a TAP device or a bridge that needs CAP_NET_ADMIN (the
    /// operation, such as "creating TAP device ls0" or "attaching ls0 to bridge br0").
    case permissionDenied(operation: String)
    /// `/dev/net/tun` cannot be opened: no TUN/TAP driver, or no such device in this container.
    case tunUnavailable(reason: String)
    /// `bridge,br=BRIDGE` names no interface of this host.
    case noSuchBridge(String)
    /// `bridge,br=BRIDGE` names an interface that is not a bridge.
    case notABridge(String)
    /// The TAP device is attached to another process (a TAP serves one file descriptor).
    case interfaceBusy(String)
    /// `ifname=NAME` names an existing interface that is not a TAP device.
    case notATap(String)
    /// The TAP device is a port of another bridge already.
    case attachedElsewhere(interface: String, master: String)
    /// ``NetworkBackend/start(onFrame:)`` was called after ``NetworkBackend/takeDown()`` or
    /// ``NetworkBackend/close()``: a backend taken down stays down.
    case stopped(String)

    public var description: String {
        switch self {
        case .invalidOption(let option, let reason):
            return "--netdev: invalid '\(option)': \(reason)"
        case .systemCall(let call, let reason):
            return "--netdev: \(call) failed: \(reason)"
        case .hostPortInUse(let forward):
            return "--netdev user,hostfwd=\(forward): the host port is in use (by another lockstep or another program); choose a free port for this hostfwd"
        case .hostForwardFailed(let forward, let reason):
            return "--netdev user,hostfwd=\(forward): cannot listen on the host side: \(reason); give an address of this host (or leave it empty for every address) and a port above 1023"
        case .permissionDenied(let operation):
            return "--netdev: \(operation) was refused: it needs CAP_NET_ADMIN; run lockstep as root (or grant it the capability with `setcap cap_net_admin+ep`), or use --netdev user, which needs no privileges"
        case .tunUnavailable(let reason):
            return "--netdev: cannot open /dev/net/tun: \(reason); load the TUN/TAP driver (`modprobe tun`), or in a container pass the device through (`--device /dev/net/tun`), or use --netdev user"
        case .noSuchBridge(let bridge):
            return "--netdev bridge,br=\(bridge): no such bridge \(bridge): create it with `ip link add \(bridge) type bridge && ip link set \(bridge) up`, or name an existing bridge"
        case .notABridge(let bridge):
            return "--netdev bridge,br=\(bridge): \(bridge) exists but is not a bridge: name a bridge (`ip -d link show type bridge` lists them), or use --netdev tap,ifname=NAME for a TAP of its own"
        case .interfaceBusy(let interface):
            return "--netdev: TAP device \(interface) is in use by another process (another lockstep, a QEMU); stop it, or choose another ifname"
        case .notATap(let interface):
            return "--netdev: interface \(interface) exists and is not a TAP device (or is a TAP with other settings, such as multiqueue); choose another ifname, or delete it"
        case .attachedElsewhere(let interface, let master):
            return "--netdev: TAP device \(interface) is a port of \(master) already; detach it (`ip link set \(interface) nomaster`) or choose another ifname"
        case .stopped(let backend):
            return "--netdev: \(backend) was taken down or closed and cannot start again; make a new backend"
        }
    }
}
