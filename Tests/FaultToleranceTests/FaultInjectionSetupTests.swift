import FaultInjection
import Foundation
import Testing

/// The setup that every fault-injection run stands on: its ports and its writer's cleanup.
@Suite struct FaultInjectionSetupTests {
    /// Ports come from below the kernel's ephemeral range (where no outgoing connection can take
    /// them), are never handed out twice in one process, and can be bound.
    @Test func portsAreBelowTheEphemeralRangeDistinctAndFree() throws {
        let text = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let ephemeralLow = try #require(text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) })
        let ports = try (0..<200).map { _ in try TestPorts.reserve() }
        #expect(Set(ports).count == ports.count)
        #expect(ports.allSatisfy { $0 < ephemeralLow && $0 > 1023 }, "\(ports.filter { $0 >= ephemeralLow || $0 <= 1023 })")
        // A reserved port is free for the child that will bind it.
        let listener = Socket.listen(port: ports[0])
        #expect(listener >= 0)
        if listener >= 0 { close(listener) }
    }

    /// A writer that never started (the cluster failed to come up) stops at once: the test's
    /// cleanup must not wait for a thread that never ran. (On its own thread with a deadline, so
    /// that a regression fails here instead of hanging the run.)
    @Test func aWriterThatNeverStartedStopsAtOnce() throws {
        let writer = try BackgroundWriter(endpoints: ["127.0.0.1:1"])
        let stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            writer.stop()
            writer.stop()
            stopped.signal()
        }
        #expect(stopped.wait(timeout: .now() + 10) == .success, "stop() of a writer that never started did not return")
    }
}

private enum Socket {
    /// A socket listening on 127.0.0.1:`port` (without SO_REUSEADDR), or -1.
    static func listen(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 8) == 0 else {
            close(fd)
            return -1
        }
        return fd
    }
}
