import Foundation

/// The backend `--netdev` asks for, made and checked (see each backend for what is checked when):
/// nil for `none`. A `bridge` without `ifname` gets the TAP device
/// ``NetdevConfiguration/defaultTapName(processID:)`` of this process.
///
/// - Throws: what ``TapNetwork/init(interfaceName:bridge:)`` throws; a ``SlirpNetwork`` reports its
///   problems (a host port in use) when it starts.
public func makeNetworkBackend(_ configuration: NetdevConfiguration) throws(NetworkBackendError) -> (any NetworkBackend)? {
    switch configuration.backend {
    case .none:
        return nil
    case .user(let forwards):
        return SlirpNetwork(forwards: forwards)
    case .tap(let interfaceName):
        return try TapNetwork(interfaceName: interfaceName)
    case .bridge(let bridge, let interfaceName):
        return try TapNetwork(interfaceName: interfaceName ?? NetdevConfiguration.defaultTapName(processID: getpid()), bridge: bridge)
    }
}
