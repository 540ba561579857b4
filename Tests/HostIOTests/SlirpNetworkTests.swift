import Foundation
import HostIO
import Testing

/// SlirpNetwork: libslirp's user-mode stack answering a guest's real frames (no privileges needed).
@Suite struct SlirpNetworkTests {
    static let guest = SlirpNetwork.guestAddress
    static let gateway = SlirpNetwork.gatewayAddress

    /// A TCP socket of the test, on 127.0.0.1.
    final class TCPSocket {
        let descriptor: Int32
        private var isClosed = false

        init() {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }

        deinit { close() }

        func close() {
            guard !isClosed else { return }
            isClosed = true
            Glibc.close(descriptor)
        }

        static func address(port: UInt16) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return address
        }

        /// Listens on 127.0.0.1 at a port the system picks; the port.
        func listen() -> UInt16 {
            var address = Self.address(port: 0)
            var size = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    _ = bind(descriptor, $0, size)
                    _ = Glibc.listen(descriptor, 4)
                    _ = getsockname(descriptor, $0, &size)
                }
            }
            return UInt16(bigEndian: address.sin_port)
        }

        /// Connects to 127.0.0.1:port; 0 or the errno.
        func connect(port: UInt16) -> Int32 {
            var address = Self.address(port: port)
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            return status == 0 ? 0 : errno
        }
    }

    /// A port no socket listens on now (libslirp cannot listen on port 0 and report the port).
    static func freePort() -> UInt16 {
        TCPSocket().listen()
    }

    /// Sends an ARP request from the guest and waits for the answer.
    static func resolve(_ target: String, through network: SlirpNetwork, waiter: FrameWaiter) -> TestFrames.ARP? {
        network.send(TestFrames.arpRequest(sender: guest, target: target))
        return waiter.waitForFrame(from: network) { frame in
            TestFrames.arp(in: frame).flatMap { $0.isReply && $0.senderAddress == target ? $0 : nil }
        }
    }

    @Test func gatewayAnswersTheGuestsARPRequest() throws {
        let network = SlirpNetwork()
        defer { network.close() }
        let waiter = FrameWaiter()
        try network.start(onFrame: waiter.onFrame)
        let reply = try #require(Self.resolve(Self.gateway, through: network, waiter: waiter))
        #expect(reply.destinationMAC == TestFrames.guestMAC)
        #expect(reply.targetMAC == TestFrames.guestMAC)
        #expect(reply.targetAddress == Self.guest)
        // libslirp's hosts have the MAC 52:55 followed by their IPv4 address.
        #expect(reply.senderMAC == [0x52, 0x55, 10, 0, 2, 2])
        #expect(waiter.ringCount > 0)
    }

    @Test func framesSentBeforeStartAreDropped() throws {
        let network = SlirpNetwork()
        defer { network.close() }
        // Before start: dropped, never queued for later.
        network.send(TestFrames.arpRequest(sender: Self.guest, target: Self.gateway))
        #expect(!network.hasFrames)
        let waiter = FrameWaiter()
        try network.start(onFrame: waiter.onFrame)
        // libslirp answers in order: had the first request been kept, its reply would come first.
        network.send(TestFrames.arpRequest(sender: Self.guest, target: SlirpNetwork.nameServerAddress))
        var replies: [String] = []
        let answer = waiter.waitForFrame(from: network) { frame -> TestFrames.ARP? in
            guard let arp = TestFrames.arp(in: frame), arp.isReply else { return nil }
            replies.append(arp.senderAddress)
            return arp.senderAddress == SlirpNetwork.nameServerAddress ? arp : nil
        }
        #expect(answer != nil)
        #expect(replies == [SlirpNetwork.nameServerAddress])
    }

    @Test func hostForwardTurnsAConnectionIntoASYNForTheGuest() throws {
        let port = Self.freePort()
        let network = SlirpNetwork(forwards: [HostForward(hostAddress: "127.0.0.1", hostPort: port, guestPort: 80)])
        defer { network.close() }
        // Nothing listens before start.
        #expect(TCPSocket().connect(port: port) == ECONNREFUSED)

        let waiter = FrameWaiter()
        try network.start(onFrame: waiter.onFrame)
        // The ARP request teaches libslirp the guest's MAC, so the SYN needs no ARP of its own.
        _ = try #require(Self.resolve(Self.gateway, through: network, waiter: waiter))

        let client = TCPSocket()
        #expect(client.connect(port: port) == 0)
        let syn = try #require(waiter.waitForFrame(from: network) { frame -> TestFrames.TCPSegment? in
            // Should libslirp still ask who the guest is, answer as the guest would.
            if let arp = TestFrames.arp(in: frame), arp.isRequest, arp.targetAddress == Self.guest {
                network.send(TestFrames.arpReply(to: arp))
            }
            return TestFrames.tcp(in: frame).flatMap { $0.isSYN ? $0 : nil }
        })
        #expect(syn.destinationAddress == Self.guest)
        #expect(syn.destinationPort == 80)
        #expect(syn.destinationMAC == TestFrames.guestMAC)
        // libslirp presents a connection from the host's loopback as coming from the gateway.
        #expect(syn.sourceAddress == Self.gateway)

        network.close()
        // Closed: the forward's port is free again.
        #expect(TCPSocket().connect(port: port) == ECONNREFUSED)
    }

    @Test func hostPortInUseIsTheTypedErrorAndTheBackendMayStartLater() throws {
        let listener = TCPSocket()
        let port = listener.listen()
        let forward = HostForward(hostAddress: "127.0.0.1", hostPort: port, guestPort: 22)
        let network = SlirpNetwork(forwards: [HostForward(hostAddress: "127.0.0.1", hostPort: Self.freePort(), guestPort: 23), forward])
        defer { network.close() }
        #expect(throws: NetworkBackendError.hostPortInUse(forward: "tcp:127.0.0.1:\(port)-:22")) {
            try network.start(onFrame: {})
        }
        let message = NetworkBackendError.hostPortInUse(forward: forward.description).description
        #expect(message.hasPrefix("--netdev user,hostfwd=tcp:127.0.0.1:\(port)-:22: "))
        #expect(message.contains("in use"))
        #expect(message.contains("choose a free port"))

        // Nothing was left listening, and once the port is free the backend starts.
        listener.close()
        let waiter = FrameWaiter()
        try network.start(onFrame: waiter.onFrame)
        #expect(Self.resolve(Self.gateway, through: network, waiter: waiter) != nil)
    }

    @Test func takeDownStopsEverythingForGood() throws {
        let port = Self.freePort()
        let network = SlirpNetwork(forwards: [HostForward(hostAddress: "127.0.0.1", hostPort: port, guestPort: 80)])
        defer { network.close() }
        let waiter = FrameWaiter()
        try network.start(onFrame: waiter.onFrame)
        #expect(Self.resolve(Self.gateway, through: network, waiter: waiter) != nil)

        network.send(TestFrames.arpRequest(sender: Self.guest, target: Self.gateway))
        network.takeDown()
        // The stack's thread has ended: nothing waits and nothing can arrive any more.
        #expect(!network.hasFrames)
        let rings = waiter.ringCount
        network.send(TestFrames.arpRequest(sender: Self.guest, target: Self.gateway))
        #expect(network.takeFrames().isEmpty)
        #expect(waiter.ringCount == rings)
        #expect(throws: NetworkBackendError.stopped(network.summary)) {
            try network.start(onFrame: {})
        }
        network.close()
        network.close()
        #expect(TCPSocket().connect(port: port) == ECONNREFUSED)
    }

    @Test func udpForwardBindsItsPortFromStartToClose() throws {
        let port = Self.freePort()   // a TCP port free now; the UDP port of that number most likely too
        let network = SlirpNetwork(forwards: [HostForward(transport: .udp, hostAddress: "127.0.0.1", hostPort: port, guestPort: 53)])
        defer { network.close() }
        func bindUDP() -> Int32 {
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { Glibc.close(descriptor) }
            var address = TCPSocket.address(port: port)
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            return status == 0 ? 0 : errno
        }
        #expect(bindUDP() == 0)
        try network.start(onFrame: {})
        #expect(bindUDP() == EADDRINUSE)
        network.close()
        #expect(bindUDP() == 0)
    }

    @Test func severalStacksRunAtOnce() throws {
        let networks = [SlirpNetwork(), SlirpNetwork(), SlirpNetwork()]
        defer { networks.forEach { $0.close() } }
        let waiters = networks.map { _ in FrameWaiter() }
        for (network, waiter) in zip(networks, waiters) { try network.start(onFrame: waiter.onFrame) }
        for (network, waiter) in zip(networks, waiters) {
            #expect(Self.resolve(SlirpNetwork.nameServerAddress, through: network, waiter: waiter) != nil)
        }
    }
}
