import Foundation
import LockstepSupport
@testable import Replication
import Testing

/// The cold-start probe for a live primary: a listener answers, a closed port does not. (An
/// address nobody answers costs the probe's poll timeout by construction; this sandbox's network
/// answers every outbound connection, so it is not tested here.)
@Suite struct NodeProbeTests {
    @Test func aListenerAnswersAClosedPortAndASilentHostDoNot() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try #require(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } } == 0)
        try #require(listen(listener, 4) == 0)
        try #require(withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } } == 0)
        let port = UInt16(bigEndian: address.sin_port)
        #expect(Node.accepts(Endpoint(host: "127.0.0.1", port: port)))
        close(listener)
        #expect(!Node.accepts(Endpoint(host: "127.0.0.1", port: port)))
    }
}
