import HostIO
import Testing

/// makeNetworkBackend: the backend each `--netdev` kind makes (the TAP kinds in TapNetworkTests).
@Suite struct NetworkBackendFactoryTests {
    @Test func noneMakesNoBackendAndUserMakesSlirp() throws {
        #expect(try makeNetworkBackend(NetdevConfiguration(parsing: "none")) == nil)
        let backend = try makeNetworkBackend(NetdevConfiguration(parsing: "user,hostfwd=tcp:127.0.0.1:8080-:80"))
        let slirp = try #require(backend as? SlirpNetwork)
        #expect(slirp.forwards == [HostForward(hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80)])
        #expect(slirp.summary.contains("hostfwd tcp:127.0.0.1:8080-:80"))
        slirp.close()
    }
}
