/// The host's announcement of a guest's MAC address after the guest moved to this host (a backup
/// that went live), as QEMU's `announce-self` makes it (net/announce.c): broadcast RARP frames in
/// rounds, so that every switch and bridge on the LAN learns the MAC's new port from the frame's
/// source address. RARP needs no guest IP address and no peer answers it.
///
/// A pure schedule: the owner asks what is due with ``due(at:)`` and sends ``frame`` that many
/// times; ``nextDeadline`` says when to look again. Times are the owner's clock, in seconds.
public struct MACAnnouncement: Sendable, Equatable {
    /// The 60-byte frame (the Ethernet minimum without FCS): broadcast destination, the guest's
    /// MAC as source, ethertype 0x8035 (RARP), hardware type 1 (Ethernet), protocol 0x0800 (IPv4),
    /// lengths 6 and 4, opcode 3 (reverse request), sender and target hardware addresses the
    /// guest's MAC, protocol addresses zero, padding zero.
    public let frame: [UInt8]
    /// When each round is due (seconds after the start): at once, then QEMU's default rounds
    /// (initial 50 ms, each next one 100 ms later, capped at 550 ms; 5 rounds).
    public static let offsets: [Double] = [0, 0.05, 0.15, 0.25, 0.35, 0.45]
    private let start: Double
    private var sent = 0

    /// A schedule for `mac` (6 bytes) starting at `start`.
    public init(mac: [UInt8], start: Double) {
        precondition(mac.count == 6, "a MAC address is 6 bytes")
        frame = Self.rarpFrame(mac: mac)
        self.start = start
    }

    /// The RARP request announcing `mac`.
    public static func rarpFrame(mac: [UInt8]) -> [UInt8] {
        var frame = [UInt8](repeating: 0xFF, count: 6)        // broadcast
        frame += mac                                             // source: the guest's MAC
        frame += [0x80, 0x35]                                    // ethertype RARP
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03]      // Ethernet, IPv4, 6, 4, reverse request
        frame += mac + [0, 0, 0, 0]                              // sender: MAC, IP 0
        frame += mac + [0, 0, 0, 0]                              // target: MAC, IP 0
        frame += [UInt8](repeating: 0, count: 60 - frame.count)  // pad to the minimum frame
        return frame
    }

    /// How many rounds are due at `now` (each is one ``frame`` to send), marking them sent.
    public mutating func due(at now: Double) -> Int {
        var count = 0
        while sent < Self.offsets.count, now >= start + Self.offsets[sent] {
            sent += 1
            count += 1
        }
        return count
    }

    /// When the next round is due; nil when every round has been sent.
    public var nextDeadline: Double? {
        sent < Self.offsets.count ? start + Self.offsets[sent] : nil
    }
}
