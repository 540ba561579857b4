import Foundation

/// A network interface of this host, by name: what sysfs says about it, and the ioctls that bring
/// it up or down and attach it to a bridge (the calls `ip link set` makes through netlink; the
/// older ioctls need no netlink code and do the same). Changing anything needs CAP_NET_ADMIN.
struct NetworkInterface {
    /// The interface's name (at most 15 bytes).
    let name: String

    /// The ioctl numbers (Linux's `<linux/sockios.h>`; Swift's Glibc module lacks the bridge ones).
    private static let getFlagsRequest: UInt = 0x8913       // SIOCGIFFLAGS
    private static let setFlagsRequest: UInt = 0x8914       // SIOCSIFFLAGS
    private static let bridgeAddRequest: UInt = 0x89a2      // SIOCBRADDIF
    private static let bridgeRemoveRequest: UInt = 0x89a3   // SIOCBRDELIF

    private var sysfs: String { "/sys/class/net/\(name)" }

    /// Whether an interface of this name exists.
    var exists: Bool { access(sysfs, F_OK) == 0 }

    /// Whether it is a bridge.
    var isBridge: Bool { access(sysfs + "/bridge", F_OK) == 0 }

    /// Whether it is a TUN or TAP device.
    var isTunOrTap: Bool { access(sysfs + "/tun_flags", F_OK) == 0 }

    /// The bridge (or other master) it is a port of, if any.
    var master: String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: sysfs + "/master") else { return nil }
        return target.split(separator: "/").last.map(String.init)
    }

    /// Its index (0 if there is no such interface).
    var index: UInt32 { if_nametoindex(name) }

    /// Whether it is administratively up (IFF_UP).
    func isUp() throws(NetworkBackendError) -> Bool {
        var request = makeRequest()
        try control(Self.getFlagsRequest, &request, call: "SIOCGIFFLAGS", operation: "reading the flags of \(name)")
        return Int32(request.ifr_ifru.ifru_flags) & Int32(IFF_UP) != 0
    }

    /// Brings it up or takes it down (IFF_UP), if it is not so already.
    func setUp(_ up: Bool) throws(NetworkBackendError) {
        var request = makeRequest()
        let operation = up ? "bringing up \(name)" : "taking down \(name)"
        try control(Self.getFlagsRequest, &request, call: "SIOCGIFFLAGS", operation: operation)
        let flags = Int32(request.ifr_ifru.ifru_flags)
        guard (flags & Int32(IFF_UP) != 0) != up else { return }
        request.ifr_ifru.ifru_flags = Int16(truncatingIfNeeded: up ? flags | Int32(IFF_UP) : flags & ~Int32(IFF_UP))
        try control(Self.setFlagsRequest, &request, call: "SIOCSIFFLAGS", operation: operation)
    }

    /// Makes the interface `port` a port of this bridge.
    func addPort(_ port: NetworkInterface) throws(NetworkBackendError) {
        try bridgeRequest(Self.bridgeAddRequest, port, call: "SIOCBRADDIF", operation: "attaching \(port.name) to bridge \(name)")
    }

    /// Detaches the interface `port` from this bridge.
    func removePort(_ port: NetworkInterface) throws(NetworkBackendError) {
        try bridgeRequest(Self.bridgeRemoveRequest, port, call: "SIOCBRDELIF", operation: "detaching \(port.name) from bridge \(name)")
    }

    private func bridgeRequest(_ number: UInt, _ port: NetworkInterface, call: String, operation: String) throws(NetworkBackendError) {
        let index = port.index
        guard index != 0 else { throw .systemCall("if_nametoindex(\(port.name))", reason: "no such interface") }
        var request = makeRequest()
        request.ifr_ifru.ifru_ivalue = Int32(bitPattern: index)
        try control(number, &request, call: call, operation: operation)
    }

    /// An `ifreq` naming this interface, everything else zero.
    func makeRequest() -> ifreq {
        var request = ifreq()
        // Sound: the name has at most 15 bytes (checked by every caller's configuration), so it
        // and the NUL that the zeroed request already holds fit the 16-byte ifr_name.
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { field in
            let bytes = Array(name.utf8.prefix(field.count - 1))
            field.copyBytes(from: bytes)
        }
        return request
    }

    /// One ioctl on an ordinary datagram socket (interface ioctls need a socket, of any family).
    private func control(_ number: UInt, _ request: inout ifreq, call: String, operation: String) throws(NetworkBackendError) {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketDescriptor >= 0 else { throw .systemCall("socket", reason: String(cString: strerror(errno))) }
        defer { close(socketDescriptor) }
        // Sound: every request used here reads and writes one `struct ifreq`, which `request` is.
        guard ioctl(socketDescriptor, number, &request) == 0 else {
            let code = errno
            if code == EPERM || code == EACCES { throw .permissionDenied(operation: operation) }
            if code == ENODEV || code == ENXIO { throw .systemCall("\(call) on \(name)", reason: "no such interface") }
            throw .systemCall("\(call) (\(operation))", reason: String(cString: strerror(code)))
        }
    }
}
