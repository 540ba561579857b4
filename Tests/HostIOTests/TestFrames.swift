import Foundation
import HostIO

/// Ethernet frames the network backend tests send as the guest, and what they read of the frames
/// that come back.
enum TestFrames {
    /// QEMU's default MAC address for the first card.
    static let guestMAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]

    /// A dotted quad as four bytes.
    static func ipv4(_ text: String) -> [UInt8] {
        text.split(separator: ".").map { UInt8($0)! }
    }

    /// An ARP request, broadcast: who has `target`? tell `sender` (at `mac`).
    static func arpRequest(from mac: [UInt8] = guestMAC, sender: String, target: String) -> [UInt8] {
        arp(operation: 1, destination: [UInt8](repeating: 0xff, count: 6), senderMAC: mac, senderAddress: sender,
            targetMAC: [UInt8](repeating: 0, count: 6), targetAddress: target)
    }

    /// The answer to `request`: its target address is at `mac`.
    static func arpReply(to request: ARP, from mac: [UInt8] = guestMAC) -> [UInt8] {
        arp(operation: 2, destination: request.senderMAC, senderMAC: mac, senderAddress: request.targetAddress,
            targetMAC: request.senderMAC, targetAddress: request.senderAddress)
    }

    /// An ARP packet for IPv4 over Ethernet, padded to Ethernet's 60-byte minimum.
    private static func arp(operation: UInt16, destination: [UInt8], senderMAC: [UInt8], senderAddress: String,
                            targetMAC: [UInt8], targetAddress: String) -> [UInt8] {
        var frame = destination + senderMAC + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, UInt8(operation >> 8), UInt8(operation & 0xff)]
        frame += senderMAC + ipv4(senderAddress) + targetMAC + ipv4(targetAddress)
        frame += [UInt8](repeating: 0, count: max(0, 60 - frame.count))
        return frame
    }

    /// An ARP packet read from a frame.
    struct ARP: Equatable {
        var destinationMAC: [UInt8]
        var operation: UInt16
        var senderMAC: [UInt8]
        var senderAddress: String
        var targetMAC: [UInt8]
        var targetAddress: String
        var isRequest: Bool { operation == 1 }
        var isReply: Bool { operation == 2 }
    }

    /// The ARP packet in `frame`, if it is one (Ethernet, IPv4).
    static func arp(in frame: [UInt8]) -> ARP? {
        guard frame.count >= 42, frame[12] == 0x08, frame[13] == 0x06,
              frame[14..<20].elementsEqual([0x00, 0x01, 0x08, 0x00, 6, 4]) else { return nil }
        return ARP(destinationMAC: Array(frame[0..<6]),
                   operation: UInt16(frame[20]) << 8 | UInt16(frame[21]),
                   senderMAC: Array(frame[22..<28]), senderAddress: dotted(frame[28..<32]),
                   targetMAC: Array(frame[32..<38]), targetAddress: dotted(frame[38..<42]))
    }

    /// A TCP segment's headers read from a frame.
    struct TCPSegment: Equatable {
        var destinationMAC: [UInt8]
        var sourceAddress: String
        var destinationAddress: String
        var sourcePort: UInt16
        var destinationPort: UInt16
        var flags: UInt8
        var isSYN: Bool { flags & 0x02 != 0 && flags & 0x10 == 0 }
    }

    /// The TCP segment in `frame`, if it is one (Ethernet, IPv4 with any options, TCP).
    static func tcp(in frame: [UInt8]) -> TCPSegment? {
        guard frame.count >= 34, frame[12] == 0x08, frame[13] == 0x00, frame[14] >> 4 == 4, frame[23] == 6 else { return nil }
        let ipHeaderLength = Int(frame[14] & 0x0f) * 4
        let tcpStart = 14 + ipHeaderLength
        guard ipHeaderLength >= 20, frame.count >= tcpStart + 20 else { return nil }
        return TCPSegment(destinationMAC: Array(frame[0..<6]),
                          sourceAddress: dotted(frame[26..<30]), destinationAddress: dotted(frame[30..<34]),
                          sourcePort: UInt16(frame[tcpStart]) << 8 | UInt16(frame[tcpStart + 1]),
                          destinationPort: UInt16(frame[tcpStart + 2]) << 8 | UInt16(frame[tcpStart + 3]),
                          flags: frame[tcpStart + 13])
    }

    private static func dotted(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map(String.init).joined(separator: ".")
    }
}

/// Waits for frames from a backend: its `onFrame` rings a condition, the waiter takes frames until
/// one matches or the time is up. No sleeping: it wakes when frames arrive.
final class FrameWaiter: @unchecked Sendable {
    private let condition = NSCondition()
    private var rings = 0   // guarded by condition

    /// The `onFrame` to start a backend with.
    var onFrame: @Sendable () -> Void {
        { [self] in
            condition.lock()
            rings += 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// How many times `onFrame` rang.
    var ringCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return rings
    }

    /// Takes frames from `backend` until `match` returns a value for one (it may also answer
    /// frames, such as ARP requests), or `timeout` seconds passed (nil then). Frames that do not
    /// match are passed to `match` and dropped.
    func waitForFrame<T>(from backend: any NetworkBackend, timeout: Double = 10, _ match: ([UInt8]) -> T?) -> T? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let seen = ringCount
            for frame in backend.takeFrames() {
                if let found = match(frame) { return found }
            }
            condition.lock()
            var timedOut = false
            while rings == seen && !timedOut {
                timedOut = !condition.wait(until: deadline)
            }
            condition.unlock()
            if timedOut {
                return backend.takeFrames().lazy.compactMap(match).first
            }
        }
    }
}
