#if canImport(Glibc)
import Glibc
#endif

/// The names and addresses of a ``NetworkLab``. The defaults are the documented topology (see
/// ``NetworkLab``); change them only when a test needs another address plan.
///
/// Addresses are CIDR (`10.99.0.1/24`). Interface names are fixed: `lan` and `mgmt` (the
/// switch's bridges), ``hostBridge`` (`br0`), `lan0`, `mgmt0` and `line1`, `line2`, ... in the
/// hosts; the switch's ports are named after what they face (`a-lan`, `b-mgmt`, `arb-mgmt`,
/// `cl-lan`).
public struct NetworkLabConfiguration: Sendable {
    /// The start of every namespace's name: ``NetworkLab/commonPrefix``, four random hex digits,
    /// `p` and the creating process's id (so that a later lab can tell a dead process's leftovers).
    public var prefix: String
    /// The bridge in each host that the guest's TAP joins (`lockstep node --netdev bridge,br=br0`).
    public var hostBridge = "br0"
    /// Host a's and host b's addresses on the management network (in that order).
    public var managementAddresses = ["10.99.0.1/24", "10.99.0.2/24"]
    /// The arbiter's address on the management network.
    public var arbiterAddress = "10.99.0.10/24"
    /// Line n's (from 1) addresses on host a and host b: `lineAddresses[n - 1]`. Each line is a
    /// direct veth pair between the hosts named `line<n>` at both ends.
    public var lineAddresses = [["10.98.1.1/30", "10.98.1.2/30"], ["10.98.2.1/30", "10.98.2.2/30"]]
    /// The client's address on the LAN.
    public var clientAddress = "10.0.0.100/24"
    /// The guest's address on the LAN (the lab does not assign it: the guest does, see
    /// ``guestKernelArgument``).
    public var guestAddress = "10.0.0.10/24"
    /// The guest's default gateway (no host has it unless a test adds it).
    public var guestGateway = "10.0.0.1"

    /// A configuration with a new prefix for this process.
    public init() {
        prefix = Self.newPrefix()
    }

    /// `lsl<4 hex digits>p<this process's id>`.
    public static func newPrefix() -> String {
        NetworkLab.commonPrefix + String(UInt16.random(in: 0x1000...0xFFFF), radix: 16) + "p\(getpid())"
    }

    /// Host `host`'s management address, without the prefix length.
    public func managementAddress(_ host: LabHost) -> String { Self.bare(managementAddresses[host.rawValue]) }

    /// Host `host`'s address on line `line` (from 1), without the prefix length.
    public func lineAddress(_ line: Int, _ host: LabHost) -> String { Self.bare(lineAddresses[line - 1][host.rawValue]) }

    /// The arbiter's management address, without the prefix length.
    public var arbiterManagementAddress: String { Self.bare(arbiterAddress) }

    /// The client's LAN address, without the prefix length.
    public var clientLANAddress: String { Self.bare(clientAddress) }

    /// The guest's address, without the prefix length.
    public var guestLANAddress: String { Self.bare(guestAddress) }

    /// The kernel's `ip=` argument that gives the guest ``guestAddress`` and ``guestGateway`` on
    /// eth0: `ip=10.0.0.10::10.0.0.1:255.255.255.0::eth0:off`.
    public var guestKernelArgument: String {
        let length = Int(guestAddress.split(separator: "/").last ?? "24") ?? 24
        let mask = length == 0 ? UInt32(0) : UInt32.max << (32 - UInt32(length))
        let netmask = (0..<4).map { String((mask >> (24 - 8 * UInt32($0))) & 0xFF) }.joined(separator: ".")
        return "ip=\(guestLANAddress)::\(guestGateway):\(netmask)::eth0:off"
    }

    /// Checks names and counts; throws what is wrong.
    func validate() throws(NetworkLabError) {
        guard !prefix.isEmpty, prefix.utf8.count <= 40,
              prefix.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
            throw .invalidConfiguration("prefix '\(prefix)' must be 1 to 40 lowercase letters and digits")
        }
        guard !hostBridge.isEmpty, hostBridge.utf8.count <= 15 else {
            throw .invalidConfiguration("host bridge name '\(hostBridge)' must be 1 to 15 bytes (the kernel's limit)")
        }
        guard managementAddresses.count == 2 else { throw .invalidConfiguration("give two management addresses, host a's and host b's") }
        guard (1...9).contains(lineAddresses.count), lineAddresses.allSatisfy({ $0.count == 2 }) else {
            throw .invalidConfiguration("give 1 to 9 lines, each with two addresses (host a's, host b's)")
        }
        for address in managementAddresses + lineAddresses.flatMap({ $0 }) + [arbiterAddress, clientAddress, guestAddress]
        where address.split(separator: "/").count != 2 {
            throw .invalidConfiguration("'\(address)' is not an address with a prefix length (10.0.0.1/24)")
        }
    }

    private static func bare(_ cidr: String) -> String {
        String(cidr.split(separator: "/").first ?? Substring(cidr))
    }
}
