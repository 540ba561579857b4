import Arbitration
import Testing

@Suite struct ArbiterAddressTests {
    @Test func parsesHostAndPort() throws {
        #expect(try ArbiterAddress(parsing: "127.0.0.1:7000") == ArbiterAddress(host: "127.0.0.1", port: 7000))
        #expect(try ArbiterAddress(parsing: "arbiter.example:0") == ArbiterAddress(host: "arbiter.example", port: 0))
        #expect(try ArbiterAddress(parsing: "[::1]:7000") == ArbiterAddress(host: "::1", port: 7000))
        #expect(ArbiterAddress(host: "::1", port: 7000).description == "[::1]:7000")
        for bad in ["", "host", "host:", ":7000", "host:70000", "host:-1", "::1:7000", "host:port"] {
            #expect(throws: ArbitrationError.self, "\(bad)") { try ArbiterAddress(parsing: bad) }
        }
    }
}
